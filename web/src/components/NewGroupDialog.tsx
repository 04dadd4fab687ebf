// Create a group: a title and the first members (more can be added later).
import { useId, useState, type FormEvent } from 'react';
import type { PublicUser } from '@outpost/shared-schema';
import { useClient } from '../app/ClientContext.ts';
import { navigate } from '../app/route.ts';
import { Dialog } from './Dialog.tsx';
import { PeoplePicker } from './PeoplePicker.tsx';

export function NewGroupDialog({ onClose }: { onClose(): void }) {
  const client = useClient();
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState<PublicUser[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const titleId = useId();

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      const id = await client.createGroup(title.trim(), members.map((m) => m.id));
      onClose();
      navigate({ name: 'conversation', conversationId: id });
    } catch (caught) {
      setError((caught as Error).message);
      setBusy(false);
    }
  };

  return (
    <Dialog title="New group" onClose={onClose}>
      <form onSubmit={create} className="stack">
        <label htmlFor={titleId}>Group name</label>
        <input id={titleId} required maxLength={200} value={title} autoFocus onChange={(e) => setTitle(e.target.value)} />
        <PeoplePicker label="Add people" exclude={members.map((m) => m.id)} onPick={(user) => setMembers((all) => [...all, user])} />
        {members.length > 0 && (
          <ul className="chips" aria-label="Chosen members">
            {members.map((m) => (
              <li key={m.id} className="chip">
                {m.displayName}
                <button type="button" className="icon-button small" aria-label={`Remove ${m.displayName}`} onClick={() => setMembers((all) => all.filter((x) => x.id !== m.id))}>
                  ✕
                </button>
              </li>
            ))}
          </ul>
        )}
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" className="primary" disabled={busy || !title.trim()}>
          Create group
        </button>
      </form>
    </Dialog>
  );
}
