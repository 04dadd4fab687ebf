// Sign in or create an account. Errors from the server (wrong password, name taken, too many
// attempts, offline) are shown as the server words them.
import { useId, useState, type FormEvent } from 'react';
import type { Session } from '@outpost/shared-schema';
import { signIn } from '../app/startClient.ts';

interface Props {
  onSignedIn(session: Session): void;
  notice?: string | undefined;
}

export function SignInScreen({ onSignedIn, notice }: Props) {
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { user: useId(), pass: useId(), name: useId(), error: useId() };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const request = { username: username.trim().toLowerCase(), password, ...(mode === 'register' && displayName.trim() ? { displayName: displayName.trim() } : {}) };
      onSignedIn(await signIn(mode, request));
    } catch (caught) {
      const message = (caught as Error).message;
      setError(/cannot reach/.test(message) ? 'No connection to the server. Signing in needs the network once; after that Outpost works offline.' : message);
      setBusy(false);
    }
  };

  const registering = mode === 'register';
  return (
    <main className="sign-in">
      <form className="card sign-in-card" onSubmit={submit} aria-describedby={error ? ids.error : undefined}>
        <div className="brand">
          <img src="/icon.svg" alt="" width={48} height={48} />
          <div>
            <h1>Outpost</h1>
            <p className="muted">Team chat that keeps working without a network</p>
          </div>
        </div>
        {notice && <p className="notice" role="status">{notice}</p>}
        <h2>{registering ? 'Create your account' : 'Sign in'}</h2>
        <label htmlFor={ids.user}>Username</label>
        <input id={ids.user} name="username" autoComplete="username" autoCapitalize="none" spellCheck={false} required minLength={3} value={username} onChange={(e) => setUsername(e.target.value)} />
        {registering && (
          <>
            <label htmlFor={ids.name}>Display name <span className="muted">(optional)</span></label>
            <input id={ids.name} name="displayName" autoComplete="name" maxLength={64} value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
          </>
        )}
        <label htmlFor={ids.pass}>Password</label>
        <input
          id={ids.pass}
          name="password"
          type="password"
          autoComplete={registering ? 'new-password' : 'current-password'}
          required
          minLength={registering ? 8 : 1}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {error && (
          <p id={ids.error} className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Please wait…' : registering ? 'Create account' : 'Sign in'}
        </button>
        <p className="switch">
          {registering ? 'Already have an account?' : 'New to Outpost?'}{' '}
          <button type="button" className="link" onClick={() => (setMode(registering ? 'login' : 'register'), setError(null))}>
            {registering ? 'Sign in' : 'Create an account'}
          </button>
        </p>
      </form>
    </main>
  );
}
