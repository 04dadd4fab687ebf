// Reporting someone else's message to the server administrators: what is wrong with it, in the
// reporter's words. The administrators see the message with a few around it.
import { useId, useState, type FormEvent } from 'react';
import type { MessageItem } from '@outpost/client';
import { Limits, type ConversationId } from '@outpost/shared-schema';
import { useClient } from '../app/ClientContext.ts';
import { nameOf } from '../app/people.ts';
import { Dialog } from './Dialog.tsx';

interface Props {
  conversationId: string;
  message: MessageItem;
  onClose(): void;
  onReported(): void;
}

export function ReportDialog({ conversationId, message, onClose, onReported }: Props) {
  const client = useClient();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const reasonId = useId();

  const send = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await client.report(conversationId as ConversationId, message.id, reason.trim());
      onReported();
    } catch (caught) {
      setError(/cannot reach/.test((caught as Error).message) ? 'Reporting needs the network; try again when you are online.' : (caught as Error).message);
      setBusy(false);
    }
  };

  return (
    <Dialog title="Report this message" onClose={onClose}>
      <form className="stack" onSubmit={send}>
        <blockquote className="reported-message">
          <strong>{nameOf(message.author)}</strong>
          <span>{message.body.slice(0, 300)}</span>
        </blockquote>
        <p className="muted">The server’s administrators will see it, with the messages around it and your name.</p>
        <label htmlFor={reasonId}>What is wrong with it?</label>
        <textarea id={reasonId} required maxLength={Limits.reportReason} rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || reason.trim() === ''}>
            Send report
          </button>
        </div>
      </form>
    </Dialog>
  );
}
