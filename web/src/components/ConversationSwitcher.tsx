// Ctrl/⌘+K: jump to a conversation by typing part of its name. Arrow keys choose, Enter opens,
// Escape closes (focus goes back where it was). Unread conversations come first while the box is
// empty, as the ones you most likely want.
import { useId, useState, type KeyboardEvent } from 'react';
import { useClient } from '../app/ClientContext.ts';
import { useLive } from '../app/useLive.ts';
import { navigate } from '../app/route.ts';
import { Avatar } from './Avatar.tsx';
import { Dialog } from './Dialog.tsx';
import { conversationTitle } from './ConversationList.tsx';

const SHOWN = 12;

export function ConversationSwitcher({ onClose }: { onClose(): void }) {
  const client = useClient();
  const list = useLive(client.conversations(), []);
  const [query, setQuery] = useState('');
  const [choice, setChoice] = useState(0);
  const id = useId();
  const needle = query.trim().toLowerCase();
  const matches = (needle
    ? list.filter((item) => conversationTitle(item).toLowerCase().includes(needle)).sort((a, b) => Number(!conversationTitle(a).toLowerCase().startsWith(needle)) - Number(!conversationTitle(b).toLowerCase().startsWith(needle)))
    : [...list].sort((a, b) => Number(b.unread > 0) - Number(a.unread > 0))
  ).slice(0, SHOWN);
  const chosen = Math.min(choice, matches.length - 1);

  const open = (conversationId: string) => {
    onClose();
    navigate({ name: 'conversation', conversationId });
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (matches.length > 0) setChoice((chosen + (event.key === 'ArrowDown' ? 1 : matches.length - 1)) % matches.length);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const item = matches[chosen];
      if (item) open(item.id);
    }
  };

  return (
    <Dialog title="Go to a conversation" onClose={onClose} className="switcher">
      <label htmlFor={`${id}-input`} className="visually-hidden">
        Conversation name
      </label>
      <input
        id={`${id}-input`}
        type="text"
        role="combobox"
        autoComplete="off"
        autoFocus
        placeholder="Type a name…"
        aria-expanded={matches.length > 0}
        aria-controls={`${id}-list`}
        aria-autocomplete="list"
        aria-activedescendant={matches.length > 0 ? `${id}-${chosen}` : undefined}
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setChoice(0);
        }}
        onKeyDown={onKeyDown}
      />
      <ul id={`${id}-list`} role="listbox" aria-label="Conversations" className="switcher-list">
        {matches.map((item, i) => (
          <li
            key={item.id}
            id={`${id}-${i}`}
            role="option"
            aria-selected={i === chosen}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => open(item.id)}
          >
            <Avatar name={conversationTitle(item)} group={item.kind === 'group'} size="small" />
            <span className="switcher-title">{conversationTitle(item)}</span>
            {item.unread > 0 && <span className="badge">{item.unread > 99 ? '99+' : item.unread}<span className="visually-hidden"> unread</span></span>}
          </li>
        ))}
      </ul>
      {matches.length === 0 && <p className="muted switcher-empty">No conversation matches.</p>}
      <p className="muted small-print">↑ ↓ to choose · Enter to open · Esc to close</p>
    </Dialog>
  );
}
