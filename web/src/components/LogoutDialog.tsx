// Asks before logging out, and says what would be lost: logging out deletes this device's copy,
// and with it whatever has not reached the server yet ("3 messages have not been sent").
import type { OutboxEntry } from '@outpost/client';
import { useSignedIn } from '../app/ClientContext.ts';
import { useLive } from '../app/useLive.ts';
import { useOnline } from '../app/useOnline.ts';
import { ConfirmDialog } from './Dialog.tsx';

/** "3 messages and 1 other change" for what is still waiting (read marks do not count). */
export function unsentSummary(outbox: readonly OutboxEntry[]): string | null {
  const messages = outbox.filter((op) => op.kind === 'send').length;
  const changes = outbox.filter((op) => op.kind !== 'send' && op.kind !== 'read').length;
  const parts = [
    messages ? `${messages} ${messages === 1 ? 'message' : 'messages'}` : '',
    changes ? `${changes} ${messages ? 'other ' : ''}${changes === 1 ? 'change' : 'changes'} (edits, deletions, reactions)` : '',
  ].filter(Boolean);
  if (parts.length === 0) return null;
  return `${parts.join(' and ')} ${messages + changes === 1 ? 'has' : 'have'} not been sent`;
}

export function LogoutDialog({ onClose }: { onClose(): void }) {
  const { client, logout } = useSignedIn();
  const outbox = useLive(client.outbox(), []);
  const online = useOnline();
  const unsent = unsentSummary(outbox);
  if (unsent) {
    return (
      <ConfirmDialog title="Log out with unsent work?" confirm="Log out anyway" cancel="Send them first" danger onConfirm={() => void logout()} onClose={onClose}>
        <p className="unsent">
          <strong>{unsent}.</strong>
        </p>
        <p>
          Logging out deletes them from this device.{' '}
          {online ? 'They are being sent now: wait a moment, then log out.' : 'They will be sent when this device is back online; stay logged in until then.'}
        </p>
      </ConfirmDialog>
    );
  }
  return (
    <ConfirmDialog title="Log out?" confirm="Log out" danger onConfirm={() => void logout()} onClose={onClose}>
      <p>This device will no longer keep your messages; sign in again to see them.</p>
    </ConfirmDialog>
  );
}
