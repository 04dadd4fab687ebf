// One message: author and time, the quoted message it replies to, the text, edited/deleted marks,
// reactions, its delivery state (waiting, sent with its number, or refused with the reason), who
// has seen it, and the actions you may take on it.
import { memo, useState } from 'react';
import type { MessageItem } from '@outpost/client';
import { nameOf } from '../app/people.ts';
import { plainText } from '../app/markup.ts';
import { fullTime, messageTime } from '../app/time.ts';
import { MessageBody } from './MessageBody.tsx';
import { ReactionBar, ReactionPicker } from './ReactionBar.tsx';

export interface MessageActions {
  reply(message: MessageItem): void;
  edit(message: MessageItem): void;
  remove(message: MessageItem): void;
  react(message: MessageItem, emoji: string): void;
  unreact(message: MessageItem, emoji: string): void;
  jumpTo(messageId: string): void;
}

interface Props {
  message: MessageItem;
  /** Start of a run of messages by one author: show name and time. */
  showHeader: boolean;
  me: string;
  myUsername: string;
  canDeleteOthers: boolean;
  quoted: MessageItem | undefined;
  seenBy: readonly string[];
  highlighted: boolean;
  online: boolean;
  actions: MessageActions;
}

function statusText(message: MessageItem, online: boolean): string {
  if (message.status === 'failed') return `Not delivered: ${message.failure ?? 'refused by the server'}`;
  if (message.status === 'pending') return online ? 'Sending…' : 'Waiting for network';
  return `Sent · #${message.seq}`;
}

function MessageRowView({ message, showHeader, me, myUsername, canDeleteOthers, quoted, seenBy, highlighted, online, actions }: Props) {
  const [picking, setPicking] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const author = message.mine ? 'You' : nameOf(message.author);
  const deleted = message.deleted !== undefined;
  const canDelete = !deleted && (message.mine || canDeleteOthers);
  const classes = ['message', message.mine ? 'mine' : '', message.status, highlighted ? 'highlight' : '', showHeader ? 'first' : ''].filter(Boolean).join(' ');

  return (
    <li id={`m-${message.id}`} className={classes} tabIndex={0} data-message-id={message.id} aria-label={`${author}, ${fullTime(message.createdAt)}`}>
      {showHeader && (
        <div className="message-meta">
          <span className="author">{author}</span>
          <time dateTime={new Date(message.createdAt).toISOString()} title={fullTime(message.createdAt)}>
            {messageTime(message.createdAt)}
          </time>
        </div>
      )}
      {message.replyTo && (
        <button type="button" className="quote" onClick={() => actions.jumpTo(message.replyTo!)} aria-label={`Replying to ${quoted ? nameOf(quoted.author) : 'a message'}: go to it`}>
          <span className="quote-author">{quoted ? (quoted.mine ? 'You' : nameOf(quoted.author)) : 'Earlier message'}</span>{' '}
          <span className="quote-text">{quoted ? (quoted.deleted ? 'Deleted message' : plainText(quoted.body).slice(0, 140)) : 'not on this device'}</span>
        </button>
      )}
      {deleted ? (
        <p className="body deleted">This message was deleted.</p>
      ) : (
        <MessageBody body={message.body} me={myUsername} />
      )}
      <div className="message-foot">
        {message.editedAt !== undefined && !deleted && (
          <span className="edited" title={`Edited ${fullTime(message.editedAt)}`}>
            (edited)
          </span>
        )}
        {message.mine && <span className={`state ${message.status}`}>{statusText(message, online)}</span>}
      </div>
      <ReactionBar reactions={message.reactions} me={me} onToggle={(emoji, mine) => (mine ? actions.unreact(message, emoji) : actions.react(message, emoji))} />
      {seenBy.length > 0 && <p className="seen">Seen by {seenBy.join(', ')}</p>}
      {!deleted && (
        <div className="message-actions" role="toolbar" aria-label="Message actions">
          <button type="button" onClick={() => actions.reply(message)}>
            Reply
          </button>
          <button type="button" aria-expanded={picking} onClick={() => setPicking(!picking)}>
            React
          </button>
          {message.mine && (
            <button type="button" onClick={() => actions.edit(message)}>
              Edit
            </button>
          )}
          {canDelete && !confirming && (
            <button type="button" onClick={() => setConfirming(true)}>
              Delete
            </button>
          )}
          {confirming && (
            <span className="confirm" role="group" aria-label="Delete this message?">
              <span>Delete for everyone?</span>
              <button type="button" className="danger" onClick={() => (setConfirming(false), actions.remove(message))}>
                Yes, delete
              </button>
              <button type="button" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </span>
          )}
        </div>
      )}
      {picking && (
        <ReactionPicker
          onClose={() => setPicking(false)}
          onPick={(emoji) => {
            setPicking(false);
            if (message.reactions[emoji]?.includes(me as never)) actions.unreact(message, emoji);
            else actions.react(message, emoji);
          }}
        />
      )}
    </li>
  );
}

export const MessageRow = memo(MessageRowView);
