// A small floating notice that says whether what you do reaches others now: offline, reconnecting,
// syncing N of M conversations, or sending N changes; and a warning when the device runs out of
// storage for the replica. Silent when all is in sync.
//
// Two rules keep it calm: a state shows only once it has lasted a moment (a message that reaches
// the server in 80 ms is never announced, nor is a reconnect that succeeds at once), and it floats
// above the app instead of taking a line of it, so nothing on the page ever moves for it.
import { useEffect, useRef, useState } from 'react';
import { useSignedIn } from '../app/ClientContext.ts';
import { useLive } from '../app/useLive.ts';
import { useOnline } from '../app/useOnline.ts';

const noProgress = { synced: 0, total: 0 };
/** How long a state must last before it is shown. */
const SHOW_AFTER_MS = 1200;

type Kind = 'offline' | 'connecting' | 'syncing';

function waiting(n: number): string {
  return n === 0 ? '' : n === 1 ? '1 change waiting to be sent' : `${n} changes waiting to be sent`;
}

/** `value` once it has stayed the same for `delayMs`; null at once when it becomes null. */
function useSettled<T>(value: T | null, delayMs: number): T | null {
  const [shown, setShown] = useState<T | null>(null);
  useEffect(() => {
    if (value === null) {
      setShown(null);
      return;
    }
    const timer = setTimeout(() => setShown(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return value === null ? null : shown;
}

export function ConnectionBanner() {
  const { client, replica } = useSignedIn();
  const storage = useLive(replica.storage(), null);
  const status = useLive(client.status(), 'connecting');
  const progress = useLive(client.syncProgress(), noProgress);
  const outbox = useLive(client.outbox(), []);
  // The user's work: messages, edits, deletions, reactions. A read mark waiting is nothing to report.
  const pending = outbox.filter((op) => op.kind !== 'read').length;
  // Whether the changes waiting are already in the replica (a reload or a closed tab keeps them).
  const [stored, setStored] = useState<readonly unknown[] | null>(null);
  useEffect(() => {
    let current = true;
    void client.stored().then(() => current && setStored(outbox));
    return () => {
      current = false;
    };
  }, [client, outbox]);
  const online = useOnline();
  const everConnected = useRef(false);
  if (status === 'connected') everConnected.current = true;

  let state: Kind | null = null;
  if (!online || (status === 'disconnected' && everConnected.current)) state = 'offline';
  else if (status !== 'connected') state = 'connecting';
  else if (progress.synced < progress.total || pending > 0) state = 'syncing';
  const kind = useSettled(state, SHOW_AFTER_MS);

  let text = '';
  let detail = '';
  if (kind === 'offline') {
    text = "You're offline.";
    detail = 'Everything still works here and is sent when the connection returns.';
  } else if (kind === 'connecting') {
    text = everConnected.current ? 'Reconnecting…' : 'Connecting…';
  } else if (kind === 'syncing') {
    text = progress.synced < progress.total ? `Syncing ${progress.synced} of ${progress.total} conversations…` : 'Sending…';
  }
  const full = storage?.state === 'full' || (storage?.unsaved ?? 0) > 0;
  const storageWarning = full
    ? 'This device is out of storage space: recent changes are kept in memory only until space is freed.'
    : storage?.state === 'nearlyFull'
      ? 'This device is nearly out of storage space for Outpost.'
      : null;
  return (
    <div className="status-notices">
      {storageWarning && (
        <div className={`banner ${full ? 'offline' : 'syncing'}`} role="alert">
          {storageWarning}
        </div>
      )}
      <div className={`banner ${kind ?? 'hidden'}`} role="status" aria-live="polite" data-testid="connection-banner">
        {kind && (
          <>
            <span className="banner-dot" aria-hidden="true" />
            <span>
              <strong>{text}</strong>
              {detail && <span className="banner-detail"> {detail}</span>}
              {pending > 0 && (
                <span className="banner-count">
                  {' · '}
                  {waiting(pending)}
                  {stored === outbox ? ', saved on this device' : ''}
                </span>
              )}
            </span>
          </>
        )}
      </div>
    </div>
  );
}
