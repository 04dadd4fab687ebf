// Who is in a conversation, with roles and who is online now; when it notifies you (on all your
// devices); for groups: rename (owner/admin), add and remove members (owner/admin, after asking),
// make admins (owner), lock to admins-only posting (owner/admin), leave. Membership changes need
// the network.
import { useId, useState, type FormEvent } from 'react';
import type { Conversation, Member } from '@outpost/client';
import { defaultNotifyLevel, NotifyLevels, type ConversationMeta, type NotifyLevel } from '@outpost/shared-schema';
import { useClient } from '../app/ClientContext.ts';
import { useLive } from '../app/useLive.ts';
import { usePresence } from '../app/usePresence.ts';
import { nameOf, usePeople } from '../app/people.ts';
import { navigate } from '../app/route.ts';
import { Avatar } from './Avatar.tsx';
import { ConfirmDialog } from './Dialog.tsx';
import { PeoplePicker } from './PeoplePicker.tsx';

interface Props {
  conversation: Conversation;
  meta: ConversationMeta;
  title: string;
  onClose(): void;
}

const ROLE_ORDER = { owner: 0, admin: 1, member: 2 } as const;

const LEVEL_NAMES: Record<NotifyLevel, string> = { all: 'All messages', mentions: 'Mentions of me', none: 'Nothing (muted)' };

/** When the conversation notifies you; the default is its kind's. */
function NotifySetting({ conversation, kind }: { conversation: Conversation; kind: 'dm' | 'group' }) {
  const client = useClient();
  const chosen = useLive(client.notifyLevels(), new Map()).get(conversation.id);
  const id = useId();
  const fallback = defaultNotifyLevel(kind);
  return (
    <div className="notify-setting">
      <label htmlFor={id}>Notify me about</label>
      <select
        id={id}
        value={chosen ?? 'default'}
        onChange={(e) => conversation.setNotifyLevel(e.target.value === 'default' ? undefined : (e.target.value as NotifyLevel))}
      >
        <option value="default">Default: {LEVEL_NAMES[fallback].toLowerCase()}</option>
        {NotifyLevels.map((level) => (
          <option key={level} value={level}>
            {LEVEL_NAMES[level]}
          </option>
        ))}
      </select>
    </div>
  );
}

export function MembersPanel({ conversation, meta, title, onClose }: Props) {
  const client = useClient();
  usePeople();
  const members = useLive(conversation.members(), []);
  const presence = usePresence();
  const [error, setError] = useState<string | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);
  const [newTitle, setNewTitle] = useState(title);
  const [lockWanted, setLockWanted] = useState<boolean | null>(null);
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
    <section className="members-panel" aria-label={group ? 'Group details' : 'Conversation details'}>
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
      {group && moderator && (
        <label className="checkbox-row">
          <input
            type="checkbox"
            checked={(lockWanted ?? meta.posting === 'admins') === true}
            onChange={(e) => {
              const locked = e.target.checked;
              // Shown at once; the group's document confirms it when the server has it.
              setLockWanted(locked);
              void attempt(() => client.setPosting(conversation.id, locked ? 'admins' : 'everyone')).finally(() => setLockWanted(null));
            }}
          />
          Only the owner and admins can post
        </label>
      )}
      {group && !moderator && meta.posting === 'admins' && <p className="muted">Only the owner and admins can post in this group.</p>}
      <NotifySetting conversation={conversation} kind={meta.kind} />
      <h4>
        {members.length} {members.length === 1 ? 'member' : 'members'}
        {!presence.connected && ' · online status unknown while you are offline'}
      </h4>
      <ul className="member-list" aria-label="Members">
        {sorted.map((member) => {
          const isOnline = presence.online(member.userId);
          const canRemove = group && moderator && member.userId !== client.user.id && member.role !== 'owner' && !(me?.role === 'admin' && member.role === 'admin');
          return (
            <li key={member.userId} className="member">
              <Avatar name={nameOf(member.userId)} size="small" online={isOnline} />
              <span className="member-name">
                <span>{label(member)}</span>
                <span className="muted">
                  {member.role}
                  {isOnline !== undefined && ` · ${isOnline ? 'online' : 'offline'}`}
                </span>
              </span>
              <span className="member-actions">
                {group && me?.role === 'owner' && member.role !== 'owner' && (
                  <button type="button" className="small" onClick={() => void attempt(() => client.setRole(conversation.id, member.userId, member.role === 'admin' ? 'member' : 'admin'))}>
                    {member.role === 'admin' ? 'Make member' : 'Make admin'}
                  </button>
                )}
                {canRemove && (
                  <button type="button" className="small danger" aria-label={`Remove ${nameOf(member.userId)}`} onClick={() => setRemoving(member)}>
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
      {removing && (
        <ConfirmDialog
          title={`Remove ${nameOf(removing.userId)}?`}
          confirm="Remove"
          danger
          onClose={() => setRemoving(null)}
          onConfirm={() => {
            const { userId } = removing;
            setRemoving(null);
            void attempt(() => client.removeMember(conversation.id, userId));
          }}
        >
          <p>
            {nameOf(removing.userId)} will no longer see this group or write in it. What this device and theirs already hold stays there.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
