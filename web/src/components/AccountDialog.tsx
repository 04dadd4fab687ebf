// Your account: download everything the server holds of you (a JSON file), or erase the account
// (asked twice: a warning that says what goes, then the password).
import { useId, useState, type FormEvent } from 'react';
import { OutpostError } from '@outpost/shared-schema';
import { useSignedIn } from '../app/ClientContext.ts';
import { useOnline } from '../app/useOnline.ts';
import { Dialog } from './Dialog.tsx';

export function AccountDialog({ onClose }: { onClose(): void }) {
  const { client, erased } = useSignedIn();
  const online = useOnline();
  const [step, setStep] = useState<'overview' | 'erase'>('overview');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [password, setPassword] = useState('');
  const passwordId = useId();

  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      const archive = await client.exportAccount();
      const url = URL.createObjectURL(new Blob([JSON.stringify(archive, null, 2)], { type: 'application/json' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = `outpost-${client.user.username}-${new Date(archive.exportedAt).toISOString().slice(0, 10)}.json`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (caught) {
      setError(`Could not download your data: ${(caught as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  const erase = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await client.eraseAccount(password);
      erased();
    } catch (caught) {
      setError(caught instanceof OutpostError && caught.kind === 'forbidden' ? 'That password is not right. Nothing was erased.' : `Could not erase the account: ${(caught as Error).message}`);
      setBusy(false);
    }
  };

  if (step === 'erase') {
    return (
      <Dialog title="Erase your account?" onClose={onClose} role="alertdialog">
        <form className="stack" onSubmit={erase}>
          <p>This cannot be undone. Erasing your account:</p>
          <ul>
            <li>signs you out on every device;</li>
            <li>removes the text of every message you wrote, for everyone, and your reactions;</li>
            <li>deletes the files you uploaded;</li>
            <li>shows you as “Deleted user” in the conversations you were in.</li>
          </ul>
          <p>Download your data first if you want to keep a copy.</p>
          <label htmlFor={passwordId}>Your password, to confirm</label>
          <input id={passwordId} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          {!online && <p className="muted">You are offline: erasing needs the server.</p>}
          <div className="dialog-actions">
            <button type="button" data-autofocus onClick={onClose}>
              Keep my account
            </button>
            <button type="submit" className="danger-solid" disabled={busy || !online || password === ''}>
              Erase my account
            </button>
          </div>
        </form>
      </Dialog>
    );
  }

  return (
    <Dialog title="Your account" onClose={onClose}>
      <div className="stack">
        <p>
          <strong>{client.user.displayName}</strong> <span className="muted">@{client.user.username}</span>
        </p>
        <h3>Your data</h3>
        <p className="muted">A JSON file with your account, devices, conversations, the messages you wrote (with edits and reactions) and your uploads.</p>
        <button type="button" onClick={() => void download()} disabled={busy || !online}>
          Download my data
        </button>
        <h3>Erase your account</h3>
        <p className="muted">Removes your messages’ text and your files for everyone, and signs you out everywhere.</p>
        <button type="button" className="danger" onClick={() => setStep('erase')} disabled={!online}>
          Erase my account…
        </button>
        {!online && <p className="muted">You are offline: these need the server.</p>}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </div>
    </Dialog>
  );
}
