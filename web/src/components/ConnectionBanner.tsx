// One line at the top that says whether what you do reaches others now: offline, reconnecting,
// syncing N of M conversations, or sending N changes; and a warning when the device runs out of
// storage for the replica. Silent when all is in sync.
import { useEffect, useRef, useState } from 'react';
import { useSignedIn } from '../app/ClientContext.ts';
import { useLive } from '../app/useLive.ts';
import { useOnline } from '../app/useOnline.ts';

const noProgress = { synced: 0, total: 0 };

function waiting(n: number): string {
  return n === 0 ? '' : n === 1 ? '1 change waiting to be sent' : `${n} changes waiting to be sent`;
}

export function ConnectionBanner() {
  const { client, replica } = useSignedIn();
  const storage = useLive(replica.storage(), null);
  const status = useLive(client.status(), 'connecting');
  const progress = useLive(client.syncProgress(), noProgress);
  const outbox = useLive(client.outbox(), []);
  const pending = outbox.length;
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

  let kind: 'offline' | 'connecting' | 'syncing' | null = null;
  let text = '';
  let detail = '';
  if (!online || (status === 'disconnected' && everConnected.current)) {
    kind = 'offline';
    text = "You're offline.";
    detail = 'Everything still works here and is sent when the connection returns.';
  } else if (status !== 'connected') {
    kind = 'connecting';
    text = everConnected.current ? 'Reconnecting…' : 'Connecting…';
  } else if (progress.synced < progress.total) {
    kind = 'syncing';
    text = `Syncing ${progress.synced} of ${progress.total} conversations…`;
  } else if (pending > 0) {
    kind = 'syncing';
    text = 'Sending…';
  }
  const full = storage?.state === 'full' || (storage?.unsaved ?? 0) > 0;
  const storageWarning = full
    ? 'This device is out of storage space: recent changes are kept in memory only until space is freed.'
    : storage?.state === 'nearlyFull'
      ? 'This device is nearly out of storage space for Outpost.'
      : null;
  return (
    <>
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
            </span>
            {pending > 0 && (
              <span className="banner-count">
                {waiting(pending)}
                {stored === outbox ? <span className="banner-detail">, saved on this device</span> : ''}
              </span>
            )}
          </>
        )}
      </div>
    </>
  );
}
