// The account screen: where you are signed in (sign a device out, or every other one), the
// password (changing it signs the other devices out) and two-factor sign-in. These need the
// network; offline, the screen says so instead of showing stale facts.
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { Limits, OutpostError, type DeviceSummary } from '@outpost/shared-schema';
import { useClient } from '../app/ClientContext.ts';
import { fullTime, listTime } from '../app/time.ts';
import { AccountDialog } from '../components/AccountDialog.tsx';
import { Link } from '../components/Link.tsx';
import { TwoFactorSection } from '../components/TwoFactorSection.tsx';

function problemText(error: unknown): string {
  if (error instanceof OutpostError) return /cannot reach/.test(error.message) ? 'No connection to the server; try again when online.' : error.message;
  return (error as Error).message;
}

function DevicesSection() {
  const client = useClient();
  const [devices, setDevices] = useState<DeviceSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const headingId = useId();

  const load = useCallback(async () => {
    try {
      setDevices(await client.account.devices());
      setError(null);
    } catch (caught) {
      setError(problemText(caught));
    }
  }, [client]);
  useEffect(() => void load(), [load]);

  const signOut = async (device: DeviceSummary) => {
    try {
      await client.account.signOutDevice(device.id);
      setStatus(`${device.name} is signed out.`);
      await load();
    } catch (caught) {
      setError(problemText(caught));
    }
  };
  const signOutOthers = async () => {
    try {
      const n = await client.account.signOutOtherDevices();
      setStatus(n === 0 ? 'No other device was signed in.' : `${n} other ${n === 1 ? 'device is' : 'devices are'} signed out.`);
      await load();
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  const others = (devices ?? []).filter((d) => !d.current).length;
  return (
    <section className="account-section" aria-labelledby={headingId}>
      <h3 id={headingId}>Where you are signed in</h3>
      {error && <p className="error" role="alert">{error}</p>}
      {status && <p className="muted" role="status">{status}</p>}
      {devices === null && !error && <p className="muted">Loading…</p>}
      {devices && (
        <ul className="device-list" aria-label="Signed-in devices">
          {devices.map((device) => (
            <li key={device.id} className="device">
              <div className="device-text">
                <strong>{device.name}</strong>
                {device.current && <span className="badge-soft">This device</span>}
                <span className="muted">
                  {device.address || 'address unknown'} · last seen <time title={fullTime(device.lastSeenAt)}>{listTime(device.lastSeenAt)}</time> · signed in{' '}
                  <time title={fullTime(device.createdAt)}>{listTime(device.createdAt)}</time>
                </span>
              </div>
              {!device.current && (
                <button type="button" className="small" onClick={() => void signOut(device)} aria-label={`Sign out ${device.name} (last seen ${listTime(device.lastSeenAt)})`}>
                  Sign out
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {others > 0 && (
        <button type="button" onClick={() => void signOutOthers()}>
          Sign out all other devices
        </button>
      )}
    </section>
  );
}

function PasswordSection() {
  const client = useClient();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const ids = { heading: useId(), current: useId(), next: useId(), hint: useId() };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      const n = await client.account.changePassword(current, next);
      setStatus(`Password changed.${n > 0 ? ` ${n} other ${n === 1 ? 'device was' : 'devices were'} signed out.` : ''}`);
      setCurrent('');
      setNext('');
    } catch (caught) {
      setError(problemText(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="account-section" aria-labelledby={ids.heading}>
      <h3 id={ids.heading}>Password</h3>
      <form className="stack narrow" onSubmit={submit}>
        <label htmlFor={ids.current}>Current password</label>
        <input id={ids.current} type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
        <label htmlFor={ids.next}>New password</label>
        <input
          id={ids.next}
          type="password"
          autoComplete="new-password"
          required
          minLength={Limits.passwordMin}
          aria-describedby={ids.hint}
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
        <p id={ids.hint} className="field-hint muted">At least {Limits.passwordMin} characters. Every other device is signed out.</p>
        {error && <p className="error" role="alert">{error}</p>}
        {status && <p className="muted" role="status">{status}</p>}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Please wait…' : 'Change password'}
        </button>
      </form>
    </section>
  );
}

/** Download everything the server holds of you, or erase the account (in a dialog that asks twice). */
function YourDataSection() {
  const headingId = useId();
  const [open, setOpen] = useState(false);
  return (
    <section className="account-section" aria-labelledby={headingId}>
      <h3 id={headingId}>Your data</h3>
      <p className="muted">Download everything the server holds of you, or erase your account.</p>
      <button type="button" className="narrow" onClick={() => setOpen(true)}>
        Your data…
      </button>
      {open && <AccountDialog onClose={() => setOpen(false)} />}
    </section>
  );
}

export function AccountScreen() {
  const client = useClient();
  const headingId = useId();
  const [admin, setAdmin] = useState(false);
  useEffect(() => {
    client.account.overview().then((o) => setAdmin(o.serverAdmin), () => setAdmin(false));
  }, [client]);
  return (
    <section className="account-screen" aria-labelledby={headingId}>
      <header className="pane-header">
        <Link to={{ name: 'home' }} className="back" aria-label="Back to conversations">
          ←
        </Link>
        <h2 id={headingId}>Account security</h2>
      </header>
      <div className="account-body">
        <DevicesSection />
        <PasswordSection />
        <TwoFactorSection />
        <YourDataSection />
        {admin && (
          <p>
            You are a server administrator: <Link to={{ name: 'admin' }}>Server administration</Link>
          </p>
        )}
      </div>
    </section>
  );
}
