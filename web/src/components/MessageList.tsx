// The scrolling history of a conversation. The whole history is local, so "infinite scroll" is a
// window over it that grows as you scroll up (keeping your place); new messages keep you at the
// bottom if you were there; a deep-linked message is brought into view and highlighted.
import { Fragment, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { MessageItem, Receipt } from '@outpost/client';
import { nameOf } from '../app/people.ts';
import { dayLabel, sameDay } from '../app/time.ts';
import { MessageRow, type MessageActions } from './MessageRow.tsx';

const PAGE = 50;
const NOBODY: readonly string[] = [];
const RUN_GAP_MS = 5 * 60_000;

interface Props {
  messages: readonly MessageItem[];
  targetId: string | undefined;
  me: string;
  myUsername: string;
  canDeleteOthers: boolean;
  receipts: readonly Receipt[];
  online: boolean;
  actions: MessageActions;
  onAtBottom(atBottom: boolean): void;
  onJumpToLatest(): void;
}

/** For each message, the other members whose read position is exactly there (their latest seen). */
function seenMap(messages: readonly MessageItem[], receipts: readonly Receipt[], me: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const numbered = messages.filter((m) => m.seq !== null);
  for (const receipt of receipts) {
    if (receipt.userId === me || receipt.read <= 0) continue;
    let last: MessageItem | undefined;
    for (const m of numbered) if ((m.seq ?? 0) <= receipt.read) last = m;
    if (!last) continue;
    map.set(last.id, [...(map.get(last.id) ?? []), nameOf(receipt.userId)]);
  }
  return map;
}

export function MessageList({ messages, targetId, me, myUsername, canDeleteOthers, receipts, online, actions, onAtBottom, onJumpToLatest }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const [count, setCount] = useState(PAGE);
  const [atBottom, setAtBottom] = useState(true);
  const stick = useRef(true);
  const restore = useRef<{ height: number; top: number } | null>(null);
  const scrolledTo = useRef<string | null>(null);

  // A deep-linked message must be inside the window.
  const targetIndex = targetId ? messages.findIndex((m) => m.id === targetId) : -1;
  const needed = targetIndex >= 0 ? messages.length - targetIndex + 10 : 0;
  const shownCount = Math.max(count, needed);
  const start = Math.max(0, messages.length - shownCount);
  const shown = messages.slice(start);
  const byId = useMemo(() => new Map(messages.map((m) => [m.id, m])), [messages]);
  const seen = useMemo(() => seenMap(messages, receipts, me), [messages, receipts, me]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (restore.current) {
      el.scrollTop = restore.current.top + (el.scrollHeight - restore.current.height);
      restore.current = null;
      return;
    }
    if (targetId && scrolledTo.current !== targetId) {
      const row = document.getElementById(`m-${targetId}`);
      if (row) {
        scrolledTo.current = targetId;
        stick.current = false;
        row.scrollIntoView({ block: 'center' });
        row.focus({ preventScroll: true });
        return;
      }
    }
    if (!targetId) scrolledTo.current = null;
    if (stick.current) el.scrollTop = el.scrollHeight;
  });

  useEffect(() => onAtBottom(atBottom), [atBottom, onAtBottom]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    stick.current = bottom;
    if (bottom !== atBottom) setAtBottom(bottom);
    if (el.scrollTop < 200) loadEarlier();
  };

  /** Grows the window by a page, keeping the messages on screen where they are. */
  const loadEarlier = () => {
    const el = scroller.current;
    if (!el || start === 0 || restore.current) return;
    restore.current = { height: el.scrollHeight, top: el.scrollTop };
    setCount(shownCount + PAGE);
  };

  const jumpToLatest = () => {
    stick.current = true;
    setCount(PAGE);
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
    setAtBottom(true);
    onJumpToLatest();
  };

  return (
    <div className="message-area">
    <div className="message-scroller" ref={scroller} onScroll={onScroll}>
      {start === 0 ? (
        <p className="history-start muted">{messages.length === 0 ? 'No messages yet. Say hello!' : 'This is the beginning of the conversation.'}</p>
      ) : (
        <p className="history-start">
          <button type="button" className="link" onClick={loadEarlier}>
            Show earlier messages
          </button>
        </p>
      )}
      <ol className="messages" aria-label="Messages" aria-live="polite" aria-relevant="additions">
        {shown.map((message, i) => {
          const previous = i > 0 ? shown[i - 1] : start > 0 ? messages[start - 1] : undefined;
          const newDay = !previous || !sameDay(previous.createdAt, message.createdAt);
          const showHeader = newDay || !previous || previous.author !== message.author || message.createdAt - previous.createdAt > RUN_GAP_MS;
          return (
            <Fragment key={message.id}>
              {newDay && (
                <li className="day-separator" role="separator" aria-label={dayLabel(message.createdAt)}>
                  <span>{dayLabel(message.createdAt)}</span>
                </li>
              )}
              <MessageRow
                message={message}
                showHeader={showHeader}
                me={me}
                myUsername={myUsername}
                canDeleteOthers={canDeleteOthers}
                quoted={message.replyTo ? byId.get(message.replyTo) : undefined}
                seenBy={seen.get(message.id) ?? NOBODY}
                highlighted={message.id === targetId}
                online={online}
                actions={actions}
              />
            </Fragment>
          );
        })}
      </ol>
    </div>
      {!atBottom && (
        <button type="button" className="jump-latest" onClick={jumpToLatest}>
          ↓ Jump to latest
        </button>
      )}
    </div>
  );
}
