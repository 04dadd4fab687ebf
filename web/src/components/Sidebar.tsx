// The left column: who you are, new conversations, message search, the filtered list.
import { useId, useState } from 'react';
import { useSignedIn } from '../app/ClientContext.ts';
import { navigate } from '../app/route.ts';
import { ConversationList } from './ConversationList.tsx';
import { Avatar } from './Avatar.tsx';
import { Icon } from './Icon.tsx';

interface Props {
  selectedId: string | null;
  onNewDirect(): void;
  onNewGroup(): void;
}

export function Sidebar({ selectedId, onNewDirect, onNewGroup }: Props) {
  const { client, logout } = useSignedIn();
  const [filter, setFilter] = useState('');
  const filterId = useId();
  return (
    <nav className="sidebar" aria-label="Conversations and search">
      <header className="sidebar-header">
        <Avatar name={client.user.displayName} />
        <div className="me">
          <strong>{client.user.displayName}</strong>
          <span className="muted">@{client.user.username}</span>
        </div>
        <button type="button" className="ghost small" onClick={() => void logout()}>
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
      </div>
      <label htmlFor={filterId} className="visually-hidden">
        Filter conversations by name
      </label>
      <input id={filterId} className="filter" type="search" placeholder="Filter conversations" value={filter} onChange={(e) => setFilter(e.target.value)} />
      <ConversationList filter={filter} selectedId={selectedId} />
    </nav>
  );
}
