// One message: author and time, the quoted message it replies to, the text, edited/deleted marks,
// reactions, its delivery state (waiting and refused always; "Sent · #N" when yours is the last
// message, else on hover or focus), who has seen it (your messages only), and the actions you may take on
// it — with the mouse, or with the keyboard on the focused message (R, E, +, C, Delete).
import { memo, useRef, useState, type KeyboardEvent } from 'react';
import { filesLabel, type MessageItem } from '@outpost/client';
import { nameOf } from '../app/people.ts';
import { plainText } from '../app/markup.ts';
import { fullTime, messageTime } from '../app/time.ts';
import { Attachments } from './Attachments.tsx';
import { MessageBody } from './MessageBody.tsx';
import { ReactionBar, ReactionPicker } from './ReactionBar.tsx';

export interface MessageActions {
  reply(message: MessageItem): void;
  edit(message: MessageItem): void;
  remove(message: MessageItem): void;
  react(message: MessageItem, emoji: string): void;
  unreact(message: MessageItem, emoji: string): void;
  jumpTo(messageId: string): void;
  copyLink(message: MessageItem): void;
  /** Opens an image of the conversation full screen. */
  openImage(attachmentId: string): void;
  /** Gives up, or tries again, a message whose files are still uploading. */
  cancelSend(message: MessageItem): void;
  retrySend(message: MessageItem): void;
  /** Reports someone else's message to the server administrators. */
  report(message: MessageItem): void;
}

interface Props {
  conversationId: string;
  message: MessageItem;
  /** Start of a run of messages by one author: show name and time. */
  showHeader: boolean;
  me: string;
  myUsername: string;
  canDeleteOthers: boolean;
  quoted: MessageItem | undefined;
  /** Who has read up to here (only on your own messages). */
  seenBy: readonly string[];
  highlighted: boolean;
  /** Your message is the conversation's last: its delivery state stays in view. */
  latestOfMine: boolean;
  /** The message the keyboard is on (the list's one tab stop). */
  current: boolean;
  online: boolean;
  actions: MessageActions;
}

function statusText(message: MessageItem, online: boolean): string {
  if (message.status === 'failed') return `Not delivered: ${message.failure ?? 'refused by the server'}`;
  if (message.status === 'pending') return online ? 'Sending…' : 'Waiting for network';
  return `Sent · #${message.seq}`;
}

function MessageRowView({ conversationId, message, showHeader, me, myUsername, canDeleteOthers, quoted, seenBy, highlighted, latestOfMine, current, online, actions }: Props) {
  const [picking, setPicking] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const row = useRef<HTMLLIElement>(null);
  // A closed picker or question gives the focus back to the message, not to the page.
  const refocus = () => row.current?.focus();
  const author = message.mine ? 'You' : nameOf(message.author);
  const deleted = message.deleted !== undefined;
  const canDelete = !deleted && (message.mine || canDeleteOthers);
  const canEdit = !deleted && message.mine;
  const classes = ['message', message.mine ? 'mine' : '', message.status, highlighted ? 'highlight' : '', showHeader ? 'first' : ''].filter(Boolean).join(' ');
  const stateAlwaysShown = message.mine && (message.status !== 'sent' || latestOfMine);

  const onKeyDown = (event: KeyboardEvent<HTMLLIElement>) => {
    // Only on the message itself, not while typing in or pressing something inside it.
    if (event.target !== event.currentTarget || event.ctrlKey || event.metaKey || event.altKey || deleted) return;
    const act: Record<string, (() => void) | undefined> = {
      r: () => actions.reply(message),
      e: canEdit ? () => actions.edit(message) : undefined,
      '+': () => setPicking(true),
      c: () => actions.copyLink(message),
      Delete: canDelete ? () => setConfirming(true) : undefined,
    };
    const run = act[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (run) {
      event.preventDefault();
      run();
    }
  };

  return (
    <li
      ref={row}
      id={`m-${message.id}`}
      className={classes}
      tabIndex={current ? 0 : -1}
      data-message-id={message.id}
      aria-keyshortcuts={['R', canEdit ? 'E' : '', '+', 'C', canDelete ? 'Delete' : ''].filter(Boolean).join(' ')}
      onKeyDown={onKeyDown}
    >
      {showHeader && (
        <div className="message-meta">
          <span className="author">{author}</span>
          <time dateTime={new Date(message.createdAt).toISOString()} title={fullTime(message.createdAt)}>
            {messageTime(message.createdAt)}
          </time>
        </div>
      )}
      {message.replyTo && (
        <button type="button" className="quote" onClick={() => actions.jumpTo(message.replyTo!)}>
          <span className="visually-hidden">In reply to </span>
          <span className="quote-author">{quoted ? (quoted.mine ? 'You' : nameOf(quoted.author)) : 'Earlier message'}</span>{' '}
          <span className="quote-text">{quoted ? (quoted.deleted ? 'Deleted message' : plainText(quoted.body || filesLabel(quoted.attachments)).slice(0, 140)) : 'not on this device'}</span>
        </button>
      )}
      {deleted ? <p className="body deleted">This message was deleted.</p> : message.body !== '' && <MessageBody body={message.body} me={myUsername} />}
      {!deleted && message.attachments && (
        <Attachments
          conversationId={conversationId}
          message={message}
          online={online}
          onOpenImage={actions.openImage}
          onCancel={() => actions.cancelSend(message)}
          onRetry={() => actions.retrySend(message)}
        />
      )}
      {(stateAlwaysShown || (message.editedAt !== undefined && !deleted)) && (
        <div className="message-foot">
          {message.editedAt !== undefined && !deleted && (
            <span className="edited" title={`Edited ${fullTime(message.editedAt)}`}>
              (edited)
            </span>
          )}
          {stateAlwaysShown && <span className={`state ${message.status}`}>{statusText(message, online)}</span>}
        </div>
      )}
      <ReactionBar reactions={message.reactions} me={me} onToggle={(emoji, mine) => (mine ? actions.unreact(message, emoji) : actions.react(message, emoji))} />
      {seenBy.length > 0 && <p className="seen">Seen by {seenBy.join(', ')}</p>}
      {!deleted && !message.upload && (
        <div className={`message-actions${confirming ? ' confirming' : ''}`} role="toolbar" aria-label="Message actions">
          {message.mine && message.status === 'sent' && !stateAlwaysShown && <span className="state sent toolbar-note">{statusText(message, online)}</span>}
          {!confirming && (
            <>
              <button type="button" aria-keyshortcuts="R" title="Reply (R)" onClick={() => actions.reply(message)}>
                Reply
              </button>
              <button type="button" aria-keyshortcuts="+" title="React (+)" aria-expanded={picking} onClick={() => setPicking(!picking)}>
                React
              </button>
              {canEdit && (
                <button type="button" aria-keyshortcuts="E" title="Edit (E)" onClick={() => actions.edit(message)}>
                  Edit
                </button>
              )}
              <button type="button" aria-keyshortcuts="C" title="Copy link (C)" onClick={() => actions.copyLink(message)}>
                Copy link
              </button>
              {!message.mine && message.seq !== null && (
                <button type="button" title="Report to the server administrators" onClick={() => actions.report(message)}>
                  Report
                </button>
              )}
              {canDelete && (
                <button type="button" aria-keyshortcuts="Delete" title="Delete (Delete)" onClick={() => setConfirming(true)}>
                  Delete
                </button>
              )}
            </>
          )}
          {confirming && (
            <span className="confirm" role="group" aria-label="Delete this message?">
              <span>Delete for everyone?</span>
              <button type="button" className="danger" onClick={() => (setConfirming(false), actions.remove(message), refocus())}>
                Yes, delete
              </button>
              <button type="button" autoFocus onClick={() => (setConfirming(false), refocus())}>
                Cancel
              </button>
            </span>
          )}
        </div>
      )}
      {picking && (
        <ReactionPicker
          onClose={() => (setPicking(false), refocus())}
          onPick={(emoji) => {
            setPicking(false);
            refocus();
            if (message.reactions[emoji]?.includes(me as never)) actions.unreact(message, emoji);
            else actions.react(message, emoji);
          }}
        />
      )}
    </li>
  );
}

export const MessageRow = memo(MessageRowView);
