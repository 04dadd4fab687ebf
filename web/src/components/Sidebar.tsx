// The left column: who you are (with notification settings, your account and logging out), new conversations,
// message search, the offer of notifications, and the filtered list.
import { useEffect, useId, useState } from 'react';
import { useSignedIn } from '../app/ClientContext.ts';
import { useLive } from '../app/useLive.ts';
import { navigate } from '../app/route.ts';
import { messageTime } from '../app/time.ts';
import { MOD } from '../app/keys.ts';
import { ConversationList } from './ConversationList.tsx';
import { Avatar } from './Avatar.tsx';
import { Icon } from './Icon.tsx';
import { ReportsDialog } from './ReportsDialog.tsx';
import { LogoutDialog } from './LogoutDialog.tsx';
import { NotificationSettings, useNow } from './NotificationSettings.tsx';
import { NotificationPrompt } from './NotificationPrompt.tsx';

interface Props {
  selectedId: string | null;
  onNewDirect(): void;
  onNewGroup(): void;
}

/** Whether the signed-in user is a server administrator (asked once; false while offline). */
function useServerAdmin(): boolean {
  const { client } = useSignedIn();
  const [admin, setAdmin] = useState(false);
  useEffect(() => {
    let live = true;
    client.isServerAdmin().then(
      (yes) => live && setAdmin(yes),
      () => undefined, // offline or refused: no reports button, the rest works as ever
    );
    return () => {
      live = false;
    };
  }, [client]);
  return admin;
}

export function Sidebar({ selectedId, onNewDirect, onNewGroup }: Props) {
  const { client } = useSignedIn();
  const [filter, setFilter] = useState('');
  const [dialog, setDialog] = useState<'logout' | 'notifications' | 'reports' | null>(null);
  const admin = useServerAdmin();
  const { dndUntil } = useLive(client.preferences(), { dndUntil: 0, sound: false });
  const dnd = dndUntil > useNow(dndUntil);
  const filterId = useId();
  return (
    <nav className="sidebar" aria-label="Conversations and search">
      <header className="sidebar-header">
        <Avatar name={client.user.displayName} />
        <div className="sidebar-me">
          <strong>{client.user.displayName}</strong>
          <span className="muted">{dnd ? `Do not disturb until ${messageTime(dndUntil)}` : `@${client.user.username}`}</span>
        </div>
        <button
          type="button"
          className={`icon-button${dnd ? ' dnd-on' : ''}`}
          aria-label={dnd ? 'Notifications (do not disturb is on)' : 'Notifications'}
          title="Notifications"
          onClick={() => setDialog('notifications')}
        >
          <Icon name={dnd ? 'moon' : 'bell'} />
        </button>
        <button type="button" className="ghost small" onClick={() => navigate({ name: 'account' })} title="Devices, password, two-factor sign-in">
          Account
        </button>
        <button type="button" className="ghost small" onClick={() => setDialog('logout')}>
          Log out
        </button>
      </header>
      <div className="sidebar-actions">
        <button type="button" className="primary" onClick={onNewDirect}>
          New message
        </button>
        <button type="button" onClick={onNewGroup}>
          New group
        </button>
        <button type="button" className="search-button" onClick={() => navigate({ name: 'search', query: '' })} aria-label="Search messages">
          <Icon name="search" /> Search
        </button>
        {admin && (
          <button type="button" onClick={() => setDialog('reports')}>
            Reports
          </button>
        )}
      </div>
      <NotificationPrompt />
      <label htmlFor={filterId} className="visually-hidden">
        Filter conversations by name
      </label>
      <input id={filterId} className="filter" type="search" placeholder={`Filter · ${MOD}K to jump`} value={filter} onChange={(e) => setFilter(e.target.value)} />
      <ConversationList filter={filter} selectedId={selectedId} />
      {dialog === 'logout' && <LogoutDialog onClose={() => setDialog(null)} />}
      {dialog === 'notifications' && <NotificationSettings onClose={() => setDialog(null)} />}
      {dialog === 'reports' && <ReportsDialog onClose={() => setDialog(null)} />}
    </nav>
  );
}
