// The server administrator's screen: counts, the users (deactivate, reactivate, issue a password
// reset code to hand over), and the audit log with filters (kind, user, time), newest first.
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { AuditKinds, OutpostError, type AdminUser, type AuditEvent, type PasswordResetIssued, type ServerStats } from '@outpost/shared-schema';
import { useClient } from '../app/ClientContext.ts';
import { fullTime, listTime } from '../app/time.ts';
import { Link } from '../components/Link.tsx';

function problemText(error: unknown): string {
  if (error instanceof OutpostError) return /cannot reach/.test(error.message) ? 'No connection to the server; try again when online.' : error.message;
  return (error as Error).message;
}

function StatsSection() {
  const client = useClient();
  const [stats, setStats] = useState<ServerStats | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    client.admin.stats().then(setStats, (caught: unknown) => setError(problemText(caught)));
  }, [client]);
  const id = useId();
  return (
    <section className="account-section" aria-labelledby={id}>
      <h3 id={id}>Server</h3>
      {error && <p className="error" role="alert">{error}</p>}
      {stats && (
        <ul className="stats" aria-label="Server counts">
          <li><strong>{stats.users}</strong> users</li>
          <li><strong>{stats.deactivatedUsers}</strong> deactivated</li>
          <li><strong>{stats.signedInDevices}</strong> signed-in devices</li>
          <li><strong>{stats.conversations}</strong> conversations</li>
          <li><strong>{stats.messages}</strong> messages</li>
          <li><strong>{stats.connectionsOnThisNode}</strong> connections on this node</li>
          <li><strong>{Math.round(stats.uptimeSeconds / 60)}</strong> minutes up ({stats.nodeVersion})</li>
        </ul>
      )}
    </section>
  );
}

function UsersSection({ onShowAudit }: { onShowAudit(user: string): void }) {
  const client = useClient();
  const [query, setQuery] = useState('');
  const [users, setUsers] = useState<AdminUser[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [reset, setReset] = useState<{ user: AdminUser; issued: PasswordResetIssued } | null>(null);
  const ids = { heading: useId(), query: useId() };

  const load = useCallback(async () => {
    try {
      setUsers((await client.admin.users({ ...(query.trim() ? { q: query.trim() } : {}), limit: 200 })).users);
      setError(null);
    } catch (caught) {
      setError(problemText(caught));
    }
  }, [client, query]);
  useEffect(() => void load(), [load]);

  const act = async (what: () => Promise<string>) => {
    setError(null);
    try {
      setStatus(await what());
      await load();
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  return (
    <section className="account-section" aria-labelledby={ids.heading}>
      <h3 id={ids.heading}>Users</h3>
      <label htmlFor={ids.query} className="visually-hidden">Find users</label>
      <input id={ids.query} type="search" placeholder="Find by name" value={query} onChange={(e) => setQuery(e.target.value)} />
      {error && <p className="error" role="alert">{error}</p>}
      {status && <p className="muted" role="status">{status}</p>}
      {reset && (
        <div className="notice" role="status">
          <p>
            Password reset for <strong>{reset.user.displayName}</strong> (@{reset.user.username}), valid until {fullTime(reset.issued.expiresAt)}.{' '}
            {reset.issued.delivered ? 'It was sent to them.' : 'Give them this code or link yourself; it works once and is not shown again.'}
          </p>
          {reset.issued.code && (
            <p>
              Code: <span className="secret">{reset.issued.code}</span>
              <br />
              Link: <span className="secret">{reset.issued.link}</span>
            </p>
          )}
          <button type="button" className="small" onClick={() => setReset(null)}>Done</button>
        </div>
      )}
      <table className="admin-table">
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Joined</th>
            <th scope="col">Status</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr key={user.id}>
              <td>
                <strong>{user.displayName}</strong> <span className="muted">@{user.username}</span>
                {user.serverAdmin && <span className="badge-soft">Administrator</span>}
                {user.twoFactor && <span className="badge-soft">Two-factor</span>}
              </td>
              <td><time title={fullTime(user.createdAt)}>{listTime(user.createdAt)}</time></td>
              <td>{user.deactivatedAt === null ? 'Active' : `Deactivated ${listTime(user.deactivatedAt)}`}</td>
              <td>
                <div className="inline">
                {user.deactivatedAt === null ? (
                  user.id !== client.user.id && (
                    <button
                      type="button"
                      className="small danger"
                      aria-label={`Deactivate ${user.username}`}
                      onClick={() =>
                        void act(async () => {
                          const n = await client.admin.deactivate(user.id);
                          return `@${user.username} is deactivated; ${n} ${n === 1 ? 'device was' : 'devices were'} signed out.`;
                        })
                      }
                    >
                      Deactivate
                    </button>
                  )
                ) : (
                  <button type="button" className="small" aria-label={`Reactivate ${user.username}`} onClick={() => void act(async () => (await client.admin.reactivate(user.id), `@${user.username} can sign in again.`))}>
                    Reactivate
                  </button>
                )}
                <button
                  type="button"
                  className="small"
                  aria-label={`Reset password for ${user.username}`}
                  onClick={() => void act(async () => (setReset({ user, issued: await client.admin.issuePasswordReset(user.id) }), ''))}
                >
                  Reset password
                </button>
                {user.twoFactor && (
                  <button
                    type="button"
                    className="small"
                    aria-label={`Turn off two-factor for ${user.username}`}
                    onClick={() => void act(async () => (await client.admin.disableTwoFactor(user.id), `Two-factor sign-in is off for @${user.username}.`))}
                  >
                    Turn off two-factor
                  </button>
                )}
                <button type="button" className="small ghost" aria-label={`Events of ${user.username}`} onClick={() => onShowAudit(user.username)}>
                  Events
                </button>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const KIND_NAMES = Object.keys(AuditKinds);

function toTime(value: string): number | undefined {
  if (!value) return undefined;
  const at = new Date(value).getTime();
  return Number.isNaN(at) ? undefined : at;
}

function AuditSection({ user, setUser }: { user: string; setUser(user: string): void }) {
  const client = useClient();
  const [kind, setKind] = useState('');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [usernames, setUsernames] = useState<Record<string, string>>({});
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ids = { heading: useId(), kind: useId(), user: useId(), since: useId(), until: useId() };

  const filters = useCallback(
    () => {
      const from = toTime(since);
      const to = toTime(until);
      return { ...(kind ? { kinds: [kind] } : {}), ...(user.trim() ? { user: user.trim() } : {}), ...(from !== undefined ? { since: from } : {}), ...(to !== undefined ? { until: to } : {}), limit: 50 };
    },
    [kind, user, since, until],
  );
  const search = useCallback(async () => {
    try {
      const page = await client.admin.auditLog(filters());
      setEvents(page.events);
      setUsernames(page.usernames);
      setNext(page.nextBefore);
      setError(null);
    } catch (caught) {
      setError(problemText(caught));
    }
  }, [client, filters]);
  useEffect(() => void search(), [search]);

  const more = async () => {
    if (next === null) return;
    try {
      const page = await client.admin.auditLog({ ...filters(), before: next });
      setEvents((shown) => [...shown, ...page.events]);
      setUsernames((known) => ({ ...known, ...page.usernames }));
      setNext(page.nextBefore);
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  /** A user as @username; another id (device, message, conversation) shortened, in full on hover. */
  const name = (id: string | null) => (id === null ? '—' : usernames[id] ? `@${usernames[id]}` : <span title={id}>{id.slice(0, 8)}…</span>);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void search();
  };

  return (
    <section className="account-section wide" aria-labelledby={ids.heading}>
      <h3 id={ids.heading}>Audit log</h3>
      <form className="admin-filters" onSubmit={submit}>
        <label htmlFor={ids.kind}>
          Kind
          <select id={ids.kind} value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="">All kinds</option>
            {KIND_NAMES.map((k) => (
              <option key={k} value={k}>{k}</option>
            ))}
          </select>
        </label>
        <label htmlFor={ids.user}>
          User
          <input id={ids.user} placeholder="username or id" value={user} onChange={(e) => setUser(e.target.value)} />
        </label>
        <label htmlFor={ids.since}>
          From
          <input id={ids.since} type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
        </label>
        <label htmlFor={ids.until}>
          Until
          <input id={ids.until} type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
        </label>
      </form>
      {error && <p className="error" role="alert">{error}</p>}
      <table className="admin-table" aria-label="Audit events, newest first">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Event</th>
            <th scope="col">By</th>
            <th scope="col">On</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id}>
              <td><time title={fullTime(e.at)}>{fullTime(e.at)}</time></td>
              <td>{e.kind}</td>
              <td>{name(e.actor)}</td>
              <td>{name(e.subject)}</td>
              <td>{Object.entries(e.details).map(([k, v]) => `${k}: ${k === 'user' && usernames[String(v)] ? `@${usernames[String(v)]}` : String(v)}`).join(' · ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {events.length === 0 && !error && <p className="muted">No events match.</p>}
      {next !== null && (
        <button type="button" onClick={() => void more()}>
          Show older events
        </button>
      )}
    </section>
  );
}

export function AdminScreen() {
  const client = useClient();
  const headingId = useId();
  const [allowed, setAllowed] = useState<boolean | null>(null);
  const [auditUser, setAuditUser] = useState('');
  useEffect(() => {
    client.account.overview().then((o) => setAllowed(o.serverAdmin), () => setAllowed(false));
  }, [client]);
  return (
    <section className="admin-screen" aria-labelledby={headingId}>
      <header className="pane-header">
        <Link to={{ name: 'home' }} className="back" aria-label="Back to conversations">
          ←
        </Link>
        <h2 id={headingId}>Server administration</h2>
      </header>
      <div className="account-body">
        {allowed === null && <p className="muted">Loading…</p>}
        {allowed === false && <p>Only a server administrator sees this page (and it needs the network).</p>}
        {allowed && (
          <>
            <StatsSection />
            <UsersSection onShowAudit={setAuditUser} />
            <AuditSection user={auditUser} setUser={setAuditUser} />
          </>
        )}
      </div>
    </section>
  );
}
