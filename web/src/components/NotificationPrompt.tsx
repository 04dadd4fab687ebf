// Offers notifications once the user has started talking (never on load): a card in the sidebar
// with "Turn on" and "Not now". The browser's own question comes only from the "Turn on" click.
import { useEffect, useState } from 'react';
import { useClient } from '../app/ClientContext.ts';
import { useLive } from '../app/useLive.ts';
import { usePermission } from '../app/usePermission.ts';
import { promptKey } from '../app/notifications.ts';

const key = promptKey;

export function NotificationPrompt() {
  const client = useClient();
  const { permission, request } = usePermission();
  const outbox = useLive(client.outbox(), []);
  const [state, setState] = useState(() => localStorage.getItem(key(client.user.id)));
  const remember = (value: 'sent' | 'dismissed') => {
    localStorage.setItem(key(client.user.id), value);
    setState(value);
  };
  // The sensible moment: the user has sent a message here, so they expect answers.
  const sentHere = outbox.some((op) => op.kind === 'send' && !op.otherTab);
  useEffect(() => {
    if (sentHere && localStorage.getItem(key(client.user.id)) === null) {
      localStorage.setItem(key(client.user.id), 'sent');
      setState('sent');
    }
  }, [client, sentHere]);
  if (state !== 'sent' || permission !== 'default') return null;
  return (
    <section className="notify-prompt" aria-labelledby="notify-prompt-title">
      <h2 id="notify-prompt-title">Know when they answer</h2>
      <p>Get a notification for direct messages and mentions of you while Outpost is in the background.</p>
      <div className="inline">
        <button type="button" className="primary small" onClick={() => void request()}>
          Turn on
        </button>
        <button type="button" className="small" onClick={() => remember('dismissed')}>
          Not now
        </button>
      </div>
    </section>
  );
}
