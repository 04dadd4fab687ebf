// Who is in a conversation, with roles and who is online now; for groups: rename (owner/admin),
// add and remove members (owner/admin), make admins (owner), leave. These need the network.
import { useId, useState, type FormEvent } from 'react';
import type { Conversation, Member } from '@outpost/client';
import type { ConversationMeta } from '@outpost/shared-schema';
import { useClient } from '../app/ClientContext.ts';
import { useLive } from '../app/useLive.ts';
import { nameOf, usePeople } from '../app/people.ts';
import { navigate } from '../app/route.ts';
import { Avatar } from './Avatar.tsx';
import { PeoplePicker } from './PeoplePicker.tsx';

interface Props {
  conversation: Conversation;
  meta: ConversationMeta;
  title: string;
  onClose(): void;
}

const ROLE_ORDER = { owner: 0, admin: 1, member: 2 } as const;

export function MembersPanel({ conversation, meta, title, onClose }: Props) {
  const client = useClient();
  usePeople();
  const members = useLive(conversation.members(), []);
  const online = new Set<string>(useLive(client.online(), []));
  if (useLive(client.status(), 'connecting') === 'connected') online.add(client.user.id);
  const [error, setError] = useState<string | null>(null);
  const [newTitle, setNewTitle] = useState(title);
  const titleId = useId();
  const me = members.find((m) => m.userId === client.user.id);
  const group = meta.kind === 'group';
  const moderator = me?.role === 'owner' || me?.role === 'admin';
  const sorted = [...members].sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || nameOf(a.userId).localeCompare(nameOf(b.userId)));

  const attempt = async (action: () => Promise<void>) => {
    setError(null);
    try {
      await action();
    } catch (caught) {
      const message = (caught as Error).message;
      setError(/cannot reach/.test(message) ? 'This needs the network; try again when you are online.' : message);
    }
  };

  const rename = (event: FormEvent) => {
    event.preventDefault();
    if (newTitle.trim() && newTitle.trim() !== title) void attempt(() => client.rename(conversation.id, newTitle.trim()));
  };

  const label = (member: Member) => (member.userId === client.user.id ? `${nameOf(member.userId)} (you)` : nameOf(member.userId));

  return (
    <aside className="members-panel" aria-label={group ? 'Group details' : 'Conversation details'}>
      <header className="pane-header">
        <h3>{group ? 'Group details' : 'Details'}</h3>
        <button type="button" className="icon-button" aria-label="Close details" onClick={onClose}>
          ✕
        </button>
      </header>
      {group && moderator && (
        <form className="rename" onSubmit={rename}>
          <label htmlFor={titleId}>Group name</label>
          <div className="inline">
            <input id={titleId} value={newTitle} maxLength={200} onChange={(e) => setNewTitle(e.target.value)} />
            <button type="submit" disabled={!newTitle.trim() || newTitle.trim() === title}>
              Rename
            </button>
          </div>
        </form>
      )}
      <h4>
        {members.length} {members.length === 1 ? 'member' : 'members'}
      </h4>
      <ul className="member-list" aria-label="Members">
        {sorted.map((member) => {
          const isOnline = online.has(member.userId);
          const canRemove = group && moderator && member.userId !== client.user.id && member.role !== 'owner' && !(me?.role === 'admin' && member.role === 'admin');
          return (
            <li key={member.userId} className="member">
              <Avatar name={nameOf(member.userId)} size="small" online={isOnline} />
              <span className="member-name">
                <span>{label(member)}</span>
                <span className="muted">
                  {member.role} · {isOnline ? 'online' : 'offline'}
                </span>
              </span>
              <span className="member-actions">
                {group && me?.role === 'owner' && member.role !== 'owner' && (
                  <button type="button" className="small" onClick={() => void attempt(() => client.setRole(conversation.id, member.userId, member.role === 'admin' ? 'member' : 'admin'))}>
                    {member.role === 'admin' ? 'Make member' : 'Make admin'}
                  </button>
                )}
                {canRemove && (
                  <button type="button" className="small danger" aria-label={`Remove ${nameOf(member.userId)}`} onClick={() => void attempt(() => client.removeMember(conversation.id, member.userId))}>
                    Remove
                  </button>
                )}
              </span>
            </li>
          );
        })}
      </ul>
      {group && moderator && (
        <PeoplePicker label="Add people" exclude={members.map((m) => m.userId)} onPick={(user) => void attempt(() => client.addMembers(conversation.id, [user.id]))} />
      )}
      {error && <p className="error" role="alert">{error}</p>}
      {group && (
        <button
          type="button"
          className="danger leave"
          onClick={() =>
            void attempt(async () => {
              await client.leave(conversation.id);
              navigate({ name: 'home' });
            })
          }
        >
          Leave group
        </button>
      )}
    </aside>
  );
}
