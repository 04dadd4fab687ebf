// Sign in or create an account. Creating one says up front what a username may be (the rule is
// shared-schema's, the one the server applies) and checks it as you type; errors from the server
// (wrong password, name taken, too many attempts, offline) are shown as the server words them,
// with the field a refused request names.
import { useId, useState, type FormEvent } from 'react';
import { Limits, OutpostError, Username, type Session } from '@outpost/shared-schema';
import { OutpostClient } from '@outpost/client';
import { serverUrl, signIn } from '../app/startClient.ts';

const USERNAME_RULE = `${Username.minLength ?? 3}–${Limits.username} characters: lowercase letters, digits, dot (.), dash (-) and underscore (_). Capitals become lowercase.`;
const PASSWORD_RULE = `At least ${Limits.passwordMin} characters.`;

/** What is wrong with a username as typed (it is sent trimmed and lowercased), or null. */
function usernameProblem(typed: string): string | null {
  const name = typed.trim().toLowerCase();
  if (name === '' || Username.safeParse(name).success) return null;
  // The schema's rule decides; a character repeated to a valid length tests the character alone.
  const bad = [...new Set(name)].filter((c) => !Username.safeParse(c.repeat(Username.minLength ?? 3)).success);
  if (bad.length > 0) return `A username cannot contain ${bad.map((c) => (c === ' ' ? 'spaces' : `“${c}”`)).join(', ')}.`;
  if (name.length < (Username.minLength ?? 3)) return `A username has at least ${Username.minLength ?? 3} characters.`;
  return `A username has at most ${Limits.username} characters.`;
}

/** The server's words, with the fields a refused request names ("username: …"). */
function explain(error: OutpostError): string {
  const issues = (error.details?.issues ?? []) as { path?: string; message?: string }[];
  if (error.kind !== 'invalidInput' || issues.length === 0) return error.message;
  return issues.map((i) => `${i.path ? `${i.path}: ` : ''}${i.message ?? 'not valid'}`).join('; ');
}

interface Props {
  onSignedIn(session: Session): void;
  notice?: string | undefined;
}

/** A reset code from an administrator's link (/reset?code=…), or null. */
function resetCodeInAddress(): string | null {
  if (typeof location === 'undefined' || location.pathname !== '/reset') return null;
  return new URLSearchParams(location.search).get('code');
}

/** Sets a new password with an administrator's one-time code; then the user signs in. */
function ResetPasswordForm({ initialCode, onDone }: { initialCode: string; onDone(notice: string | null): void }) {
  const [code, setCode] = useState(initialCode);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { code: useId(), pass: useId(), hint: useId() };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await OutpostClient.resetPassword({ url: serverUrl() }, code.trim(), password);
      history.replaceState(null, '', '/');
      onDone('Your password is changed. Sign in with it.');
    } catch (caught) {
      setError(caught instanceof OutpostError ? explain(caught) : (caught as Error).message);
      setBusy(false);
    }
  };
  return (
    <form className="card sign-in-card" onSubmit={submit}>
      <h1>Outpost</h1>
      <h2>Choose a new password</h2>
      <label htmlFor={ids.code}>Reset code</label>
      <input id={ids.code} name="code" autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} />
      <label htmlFor={ids.pass}>New password</label>
      <input
        id={ids.pass}
        name="password"
        type="password"
        autoComplete="new-password"
        required
        minLength={Limits.passwordMin}
        aria-describedby={ids.hint}
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <p id={ids.hint} className="field-hint muted">
        {PASSWORD_RULE} Every device signed in to your account is signed out.
      </p>
      {error && <p className="error" role="alert">{error}</p>}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Please wait…' : 'Set new password'}
      </button>
      <p className="switch">
        <button type="button" className="link" onClick={() => (history.replaceState(null, '', '/'), onDone(null))}>
          Back to sign in
        </button>
      </p>
    </form>
  );
}

export function SignInScreen({ onSignedIn, notice: givenNotice }: Props) {
  const [resetCode, setResetCode] = useState<string | null>(resetCodeInAddress);
  const [resetNotice, setResetNotice] = useState<string | null>(null);
  const notice = resetNotice ?? givenNotice;
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  /** The account asked for a second factor: the code step shows. */
  const [askCode, setAskCode] = useState(false);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { user: useId(), userHint: useId(), pass: useId(), passHint: useId(), name: useId(), error: useId(), code: useId(), codeHint: useId() };
  const registering = mode === 'register';
  const problem = registering ? usernameProblem(username) : null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (problem) return;
    setBusy(true);
    setError(null);
    try {
      const request = {
        username: username.trim().toLowerCase(),
        password,
        ...(mode === 'register' && displayName.trim() ? { displayName: displayName.trim() } : {}),
        ...(mode === 'login' && askCode && code.trim() ? { code: code.trim() } : {}),
      };
      onSignedIn(await signIn(mode, request));
    } catch (caught) {
      const need = caught instanceof OutpostError ? caught.details?.secondFactor : undefined;
      if (need === 'required' && !askCode) {
        // The password was right; the account also wants its second factor.
        setAskCode(true);
        setBusy(false);
        return;
      }
      if (need === 'invalid') setCode('');
      const message = caught instanceof OutpostError ? explain(caught) : (caught as Error).message;
      setError(/cannot reach/.test(message) ? 'No connection to the server. Signing in needs the network once; after that Outpost works offline.' : message);
      setBusy(false);
    }
  };

  if (resetCode !== null) {
    return (
      <main className="sign-in">
        <ResetPasswordForm initialCode={resetCode} onDone={(done) => (setResetCode(null), setResetNotice(done))} />
      </main>
    );
  }

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
        <input
          id={ids.user}
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          minLength={3}
          maxLength={Limits.username + 8}
          aria-describedby={registering ? ids.userHint : undefined}
          aria-invalid={problem ? true : undefined}
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
        {registering && (
          <p id={ids.userHint} className={problem ? 'field-hint error' : 'field-hint muted'} aria-live="polite">
            {problem ?? USERNAME_RULE}
          </p>
        )}
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
          minLength={registering ? Limits.passwordMin : 1}
          aria-describedby={registering ? ids.passHint : undefined}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {registering && (
          <p id={ids.passHint} className="field-hint muted">
            {PASSWORD_RULE}
          </p>
        )}
        {askCode && !registering && (
          <>
            <label htmlFor={ids.code}>Authentication code</label>
            <input
              id={ids.code}
              name="code"
              autoComplete="one-time-code"
              inputMode="text"
              autoFocus
              required
              maxLength={32}
              aria-describedby={ids.codeHint}
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
            <p id={ids.codeHint} className="field-hint muted">
              The 6-digit code your authenticator app shows for Outpost — or one of your recovery codes.
            </p>
          </>
        )}
        {error && (
          <p id={ids.error} className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || !!problem}>
          {busy ? 'Please wait…' : registering ? 'Create account' : 'Sign in'}
        </button>
        <p className="switch">
          {registering ? 'Already have an account?' : 'New to Outpost?'}{' '}
          <button type="button" className="link" onClick={() => (setMode(registering ? 'login' : 'register'), setError(null), setAskCode(false), setCode(''))}>
            {registering ? 'Sign in' : 'Create an account'}
          </button>
        </p>
      </form>
    </main>
  );
}
