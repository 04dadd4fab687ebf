// The conversation list: newest activity first, with the last message, its time, unread and
// mention badges, a muted mark, and, when something you wrote here is still waiting to be sent,
// your own newest pending message as the preview (marked ⏳) — never someone else's.
import { useMemo, type ReactNode } from 'react';
import type { ConversationListItem, MessageItem } from '@outpost/client';
import type { ConversationId } from '@outpost/shared-schema';
import { useClient } from '../app/ClientContext.ts';
import { useLive } from '../app/useLive.ts';
import { nameOf, usePeople } from '../app/people.ts';
import { plainText } from '../app/markup.ts';
import { listTime, now } from '../app/time.ts';
import { Link } from './Link.tsx';
import { Avatar } from './Avatar.tsx';
import { Icon } from './Icon.tsx';

interface Props {
  filter: string;
  selectedId: string | null;
}

export function conversationTitle(item: Pick<ConversationListItem, 'kind' | 'title'>): string {
  return item.title || (item.kind === 'dm' ? 'Direct message' : 'Untitled group');
}

/** "⏳ You: …" for your newest message still waiting to be sent here; else the usual preview. */
function PendingPreview({ conversationId, otherwise }: { conversationId: ConversationId; otherwise: ReactNode }) {
  const client = useClient();
  const conversation = useMemo(() => client.conversation(conversationId), [client, conversationId]);
  const history = useLive(conversation.window(), conversation.window().get());
  // The outbox may list a message for a moment after it is numbered (it settles on a timer).
  // Pending messages have no number yet, so they are at the end: only those are read.
  let newest: MessageItem | undefined;
  for (const m of history.newestFirst()) {
    if (m.seq !== null) break;
    if (m.mine && m.status === 'pending') {
      newest = m;
      break;
    }
  }
  if (!newest) return otherwise;
  return (
    <>
      <span className="pending-marker" aria-hidden="true">
        ⏳{' '}
      </span>
      You: {plainText(newest.body)}
    </>
  );
}

export function ConversationList({ filter, selectedId }: Props) {
  const client = useClient();
  usePeople();
  const list = useLive(client.conversations(), []);
  const outbox = useLive(client.outbox(), []);
  const levels = useLive(client.notifyLevels(), new Map());
  const needle = filter.trim().toLowerCase();
  const shown = needle ? list.filter((item) => conversationTitle(item).toLowerCase().includes(needle)) : list;
  const pendingIn = new Map<string, number>();
  for (const op of outbox) if (op.kind === 'send') pendingIn.set(op.conversationId, (pendingIn.get(op.conversationId) ?? 0) + 1);

  if (list.length === 0) {
    return (
      <>
        <p className="empty-list muted">No conversations yet. Start one with “New message”.</p>
        <Removals />
      </>
    );
  }
  if (shown.length === 0) return <p className="empty-list muted">No conversation matches “{filter}”.</p>;
  return (
    <>
      <ul className="conversation-list" aria-label="Conversations">
        {shown.map((item) => {
          const title = conversationTitle(item);
          const last = item.lastMessage;
          const author = last ? (last.author === client.user.id ? 'You' : item.kind === 'group' ? nameOf(last.author) : '') : '';
          const pending = pendingIn.get(item.id) ?? 0;
          const muted = levels.get(item.id) === 'none';
          // The server's preview is the body's start on one line: code fences there are only noise.
          const preview = last ? `${author ? `${author}: ` : ''}${plainText(last.preview.replace(/```/g, ' '))}` : <span className="muted">No messages yet</span>;
          // Read by screen readers after the visible text (the link's name includes all of it).
          const extra = [
            muted ? 'muted' : '',
            item.unread ? `${item.unread} unread` : '',
            item.mentions ? `${item.mentions} ${item.mentions === 1 ? 'mention' : 'mentions'}` : '',
            pending ? `${pending} waiting to be sent` : '',
          ].filter(Boolean);
          return (
            <li key={item.id}>
              <Link
                to={{ name: 'conversation', conversationId: item.id }}
                className={`conversation-item${item.id === selectedId ? ' selected' : ''}${item.unread ? ' unread' : ''}${muted ? ' muted-conversation' : ''}`}
                aria-current={item.id === selectedId ? 'page' : undefined}
              >
                <Avatar name={title} group={item.kind === 'group'} />
                <span className="conversation-text">
                  <span className="conversation-top">
                    <span className="conversation-title">{title}</span>
                    {muted && <Icon name="bellOff" />}
                    {last && <time className="conversation-time">{listTime(last.at)}</time>}
                  </span>
                  <span className="conversation-bottom">
                    <span className="conversation-preview">
                      {pending > 0 ? <PendingPreview conversationId={item.id} otherwise={preview} /> : preview}
                    </span>
                    {item.mentions > 0 && <span className="badge mention" aria-hidden="true">@</span>}
                    {item.unread > 0 && (
                      <span className="badge" aria-hidden="true">
                        {item.unread > 99 ? '99+' : item.unread}
                      </span>
                    )}
                  </span>
                </span>
                {extra.length > 0 && <span className="visually-hidden">, {extra.join(', ')}</span>}
              </Link>
            </li>
          );
        })}
      </ul>
      <Removals />
    </>
  );
}

/** "You were removed from <group> by <name>", and what you had waiting there that failed. */
function Removals() {
  const client = useClient();
  const removals = useLive(client.removals(), []);
  const failed = useLive(client.failedWork(), []);
  const recent = removals.filter((r) => now() - r.at < REMOVALS_SHOWN_MS);
  if (recent.length === 0) return null;
  return (
    <ul className="removal-list" aria-label="Conversations you left">
      {recent.map((removal) => {
        const lost = failed.filter((op) => op.conversationId === removal.id).length;
        const title = removal.title || (removal.kind === 'dm' ? 'a direct message' : 'a group');
        return (
          <li key={removal.id} className="removal muted">
            {removal.by ? `You were removed from ${title} by ${removal.byName || nameOf(removal.by)}` : `You left ${title}`}
            {lost > 0 && ` · ${lost} ${lost === 1 ? 'change' : 'changes'} you made there could not be sent`}
          </li>
        );
      })}
    </ul>
  );
}

/** How long a removal stays in the list. */
const REMOVALS_SHOWN_MS = 7 * 24 * 60 * 60 * 1000;
