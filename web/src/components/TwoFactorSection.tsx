// Two-factor sign-in on the account screen: turn it on (scan the QR code or type the secret,
// confirm with a first code, then keep the recovery codes — shown this once), or turn it off with
// the password and a code.
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { OutpostError, type TwoFactorEnrolment, type TwoFactorStatus } from '@outpost/shared-schema';
import { useClient } from '../app/ClientContext.ts';

function problemText(error: unknown): string {
  if (error instanceof OutpostError) return /cannot reach/.test(error.message) ? 'No connection to the server; try again when online.' : error.message;
  return (error as Error).message;
}

export function TwoFactorSection() {
  const client = useClient();
  const [status, setStatus] = useState<TwoFactorStatus | null>(null);
  const [enrolment, setEnrolment] = useState<TwoFactorEnrolment | null>(null);
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [turningOff, setTurningOff] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const ids = { heading: useId(), code: useId(), password: useId(), offCode: useId() };

  const load = useCallback(async () => {
    try {
      setStatus(await client.account.twoFactor());
    } catch (caught) {
      setError(problemText(caught));
    }
  }, [client]);
  useEffect(() => void load(), [load]);

  const begin = async () => {
    setError(null);
    try {
      setEnrolment(await client.account.beginTwoFactor());
    } catch (caught) {
      setError(problemText(caught));
    }
  };
  const confirm = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const result = await client.account.confirmTwoFactor(code);
      setRecoveryCodes(result.recoveryCodes);
      setEnrolment(null);
      setCode('');
      setNotice(result.signedOut > 0 ? `Two-factor sign-in is on. ${result.signedOut} other ${result.signedOut === 1 ? 'device was' : 'devices were'} signed out.` : 'Two-factor sign-in is on.');
      await load();
    } catch (caught) {
      setError(problemText(caught));
    }
  };
  const turnOff = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      await client.account.disableTwoFactor(password, code);
      setTurningOff(false);
      setPassword('');
      setCode('');
      setNotice('Two-factor sign-in is off.');
      await load();
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  return (
    <section className="account-section" aria-labelledby={ids.heading}>
      <h3 id={ids.heading}>Two-factor sign-in</h3>
      {error && <p className="error" role="alert">{error}</p>}
      {notice && <p className="muted" role="status">{notice}</p>}
      {recoveryCodes && (
        <div className="stack">
          <p>
            <strong>Keep these recovery codes somewhere safe.</strong> Each signs you in once if you lose your authenticator. They are shown
            only now.
          </p>
          <ol className="recovery-codes" aria-label="Recovery codes">
            {recoveryCodes.map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ol>
          <button type="button" onClick={() => setRecoveryCodes(null)}>
            I have saved them
          </button>
        </div>
      )}
      {status && !status.enabled && !enrolment && (
        <>
          <p className="muted">Off. With it on, signing in on a new device also asks for a code from an authenticator app.</p>
          <button type="button" className="narrow" onClick={() => void begin()}>
            Turn on two-factor sign-in
          </button>
        </>
      )}
      {enrolment && (
        <form className="stack narrow" onSubmit={confirm}>
          <p>Scan this with your authenticator app (or type the key), then enter the code it shows.</p>
          <img className="qr" src={enrolment.qrCode} alt="QR code for your authenticator app" />
          <p>
            Key: <span className="secret">{enrolment.secret}</span>
          </p>
          <label htmlFor={ids.code}>Code from the app</label>
          <input id={ids.code} autoComplete="one-time-code" inputMode="numeric" required maxLength={10} value={code} onChange={(e) => setCode(e.target.value)} />
          <p className="field-hint muted">Turning it on signs out your other devices; they sign in again with a code.</p>
          <div className="inline">
            <button type="submit" className="primary">
              Turn on
            </button>
            <button type="button" onClick={() => (setEnrolment(null), setCode(''))}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {status?.enabled && !turningOff && !recoveryCodes && (
        <>
          <p>
            On. {status.recoveryCodesLeft} recovery {status.recoveryCodesLeft === 1 ? 'code' : 'codes'} left.
          </p>
          <button type="button" className="narrow" onClick={() => (setTurningOff(true), setNotice(null))}>
            Turn off…
          </button>
        </>
      )}
      {status?.enabled && turningOff && (
        <form className="stack narrow" onSubmit={turnOff}>
          <label htmlFor={ids.password}>Password</label>
          <input id={ids.password} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          <label htmlFor={ids.offCode}>Code from the app, or a recovery code</label>
          <input id={ids.offCode} autoComplete="one-time-code" required maxLength={32} value={code} onChange={(e) => setCode(e.target.value)} />
          <div className="inline">
            <button type="submit" className="danger">
              Turn off two-factor sign-in
            </button>
            <button type="button" onClick={() => setTurningOff(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
