// Finds people by name (this needs the network) and lets you pick one or several.
import { useEffect, useId, useState } from 'react';
import type { PublicUser } from '@outpost/shared-schema';
import { useClient } from '../app/ClientContext.ts';
import { learn } from '../app/people.ts';
import { Avatar } from './Avatar.tsx';

interface Props {
  label: string;
  /** Called when a person is chosen. */
  onPick(user: PublicUser): void;
  /** People not to offer (already chosen, already members). */
  exclude?: readonly string[];
  autoFocus?: boolean;
}

export function PeoplePicker({ label, onPick, exclude = [], autoFocus = false }: Props) {
  const client = useClient();
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<PublicUser[]>([]);
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  useEffect(() => {
    const q = query.trim();
    if (!q) {
      setFound([]);
      setError(null);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      client.findUsers(q).then(
        (users) => {
          if (!current) return;
          learn(users);
          setFound(users.filter((u) => u.id !== client.user.id));
          setError(null);
        },
        (caught: unknown) => current && setError(/cannot reach/.test((caught as Error).message) ? 'Finding people needs the network.' : (caught as Error).message),
      );
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [client, query]);

  const shown = found.filter((u) => !exclude.includes(u.id));
  return (
    <div className="people-picker">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="search" autoComplete="off" placeholder="Name or username" value={query} autoFocus={autoFocus} onChange={(e) => setQuery(e.target.value)} />
      {error && <p className="error" role="alert">{error}</p>}
      {query.trim() && !error && (
        <ul className="people-results" aria-label="People found">
          {shown.length === 0 && <li className="muted">Nobody found yet…</li>}
          {shown.map((user) => (
            <li key={user.id}>
              <button
                type="button"
                className="person-row"
                onClick={() => {
                  setQuery('');
                  onPick(user);
                }}
              >
                <Avatar name={user.displayName} size="small" />
                <span>
                  {user.displayName} <span className="muted">@{user.username}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
