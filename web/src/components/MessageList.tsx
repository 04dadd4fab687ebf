// The scrolling history of a conversation. The whole history is local, so "infinite scroll" is a
// window over it that grows as you scroll up (keeping your place) up to WINDOW rows; further up,
// the newest rows are dropped and come back as you scroll down again, so what is rendered stays
// bounded however far back you read, and a change costs what the window holds, not what the
// history holds (the conversation's MessageWindow is read in place); new messages keep you at the
// bottom if you were there; a deep-linked message is brought into view and highlighted; opening
// a conversation with unread messages lands at the first of them, under a "New messages" line.
// What happened to a group (created, renamed, people added, removed or gone) sits between the
// messages at the time it happened.
// For the keyboard the list is one tab stop: arrow keys move between messages, Escape goes back
// to the composer, and the focused message takes its own shortcuts (see MessageRow).
import { Fragment, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { MessageItem, MessageWindow, Receipt, TimelineEvent } from '@outpost/client';
import { bootScreenRows, dismissBootScreen, holdBootScreen, keepBootScreen } from '../app/bootScreen.ts';
import { nameOf } from '../app/people.ts';
import { dayLabel, sameDay } from '../app/time.ts';
import { MessageRow, type MessageActions } from './MessageRow.tsx';

const PAGE = 50;
/** Rows rendered at most while scrolling back (a deep link or a long unread run may need more). */
const WINDOW = 200;
const NOBODY: readonly string[] = [];
const RUN_GAP_MS = 5 * 60_000;

interface Props {
  conversationId: string;
  history: MessageWindow;
  events: readonly TimelineEvent[];
  targetId: string | undefined;
  /** The first message that was unread when the conversation opened. */
  firstUnreadId: string | undefined;
  me: string;
  myUsername: string;
  canDeleteOthers: boolean;
  receipts: readonly Receipt[];
  online: boolean;
  actions: MessageActions;
  onAtBottom(atBottom: boolean): void;
  onJumpToLatest(): void;
  /** Scrolled to the oldest message on this device: bring the next older segment (it may be on the server only). */
  onOlder(): void;
  /** Escape on a message: back to writing. */
  onEscape(): void;
}

/** "Ada added Cyd", "You renamed the group to “Pump crew”". */
export function describeEvent(event: TimelineEvent, me: string): string {
  const who = (id: string | undefined) => (id === undefined ? 'someone' : id === me ? 'you' : nameOf(id));
  const by = who(event.by);
  const actor = by.charAt(0).toUpperCase() + by.slice(1);
  switch (event.kind) {
    case 'created':
      return `${actor} created the group${event.title ? ` “${event.title}”` : ''}`;
    case 'added':
      return `${actor} added ${who(event.user)}`;
    case 'removed':
      return `${actor} removed ${who(event.user)}`;
    case 'left':
      return `${actor} left`;
    case 'renamed':
      return `${actor} renamed the group to “${event.title ?? ''}”`;
  }
}

/** The events after `after` (exclusive) up to `until` (inclusive), by time. */
function eventsBetween(events: readonly TimelineEvent[], after: number, until: number): TimelineEvent[] {
  return events.filter((event) => event.at > after && event.at <= until);
}

/**
 * For each of your messages on screen (positions start..end), the other members whose read
 * position reached it and no later message of yours: "Seen by" sits under the last of your
 * messages each has read. Only the rows shown are read: a member who read past them (while you
 * look further back) is shown where that is, below.
 */
function seenMap(history: MessageWindow, start: number, end: number, receipts: readonly Receipt[], me: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const receipt of receipts) {
    if (receipt.userId === me || receipt.read <= 0) continue;
    const after = history.firstAfter(receipt.read);
    if (after > end && end < history.length) continue;
    for (let i = Math.min(after, end) - 1; i >= start; i--) {
      const m = history.at(i) as MessageItem;
      if (!m.mine || m.seq === null || m.deleted !== undefined) continue;
      map.set(m.id, [...(map.get(m.id) ?? []), nameOf(receipt.userId)]);
      break;
    }
  }
  return map;
}

export function MessageList({ conversationId, history, events, targetId, firstUnreadId, me, myUsername, canDeleteOthers, receipts, online, actions, onAtBottom, onJumpToLatest, onOlder, onEscape }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const [count, setCount] = useState(PAGE);
  /** The newest message rendered when you scrolled so far back that the latest are dropped (null: down to the latest). */
  const [lastId, setLastId] = useState<string | null>(null);
  const [atBottom, setAtBottom] = useState(true);
  const [currentId, setCurrentId] = useState<string | null>(null);
  const stick = useRef(true);
  /** A row on screen and where it was before the window moved: it is put back there. */
  const restore = useRef<{ id: string; offset: number } | null>(null);
  const scrolledTo = useRef<string | null>(null);
  const landedOnUnread = useRef(false);

  // A deep-linked message, and the first unread one, must be inside the window.
  const total = history.length;
  const indexOf = (id: string | undefined) => (id ? history.indexOf(id) : -1);
  const anchorIndex = Math.min(...[indexOf(targetId), indexOf(firstUnreadId)].filter((i) => i >= 0), total);
  const needed = anchorIndex < total ? total - anchorIndex + 10 : 0;
  const lastIndex = lastId === null ? -1 : history.indexOf(lastId);
  // An anchor past the window's end (a new deep link) brings the window down to the latest.
  const end = lastIndex < 0 || (needed > 0 && anchorIndex > lastIndex) ? total : lastIndex + 1;
  const shownCount = Math.max(count, needed);
  const start = Math.max(0, end - shownCount);
  const shown = useMemo(() => history.slice(start, end), [history, start, end]);
  const cut = end < total;
  const seen = useMemo(() => seenMap(history, start, end, receipts, me), [history, start, end, receipts, me]);
  // Your message's "Sent · #N" stays in view while it is the conversation's last message.
  const last = history.at(total - 1);
  const latestOfMine = last?.mine ? last.id : undefined;
  const focusable = currentId && history.get(currentId) ? currentId : (targetId ?? shown[shown.length - 1]?.id);

  const settle = (el: HTMLDivElement) => {
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    stick.current = bottom;
    setAtBottom(bottom);
  };

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (restore.current) {
      const row = document.getElementById(`m-${restore.current.id}`);
      if (row) el.scrollTop += row.getBoundingClientRect().top - el.getBoundingClientRect().top - restore.current.offset;
      restore.current = null;
      return;
    }
    if (targetId && scrolledTo.current !== targetId) {
      const row = document.getElementById(`m-${targetId}`);
      if (row) {
        scrolledTo.current = targetId;
        landedOnUnread.current = true;
        stick.current = false;
        row.scrollIntoView({ block: 'center' });
        row.focus({ preventScroll: true });
        return;
      }
    }
    if (!targetId) scrolledTo.current = null;
    if (firstUnreadId && !landedOnUnread.current) {
      const divider = document.getElementById('new-messages');
      if (divider) {
        landedOnUnread.current = true;
        el.scrollTop = divider.offsetTop - 8;
        settle(el);
        return;
      }
    }
    if (stick.current && !cut) el.scrollTop = el.scrollHeight;
  });

  // After the scroll above, in the same frame: the boot screen goes once this list shows as much.
  useLayoutEffect(() => {
    const rows = bootScreenRows();
    if (rows > 0 && shown.length >= rows) dismissBootScreen();
  });

  // The latest messages on screen are what the next cold start shows first (see bootScreen.ts).
  useEffect(() => {
    if (cut || targetId || !atBottom || shown.length === 0) holdBootScreen();
    else keepBootScreen(me);
  });

  useEffect(() => onAtBottom(atBottom), [atBottom, onAtBottom]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const nearEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    const bottom = nearEnd && !cut;
    stick.current = bottom;
    if (bottom !== atBottom) setAtBottom(bottom);
    if (el.scrollTop < 200) loadEarlier();
    else if (cut && el.scrollHeight - el.scrollTop - el.clientHeight < 200) loadLater();
  };

  /** The first row on screen and its distance from the top of the scroller. */
  const anchor = (el: HTMLDivElement): { id: string; offset: number } | null => {
    const top = el.getBoundingClientRect().top;
    for (const row of el.querySelectorAll<HTMLElement>('li.message')) {
      const box = row.getBoundingClientRect();
      if (box.bottom > top) return { id: row.dataset.messageId ?? '', offset: box.top - top };
    }
    return null;
  };

  /** Grows the window by a page at the top, keeping the messages on screen where they are; past WINDOW rows the newest are dropped. */
  const loadEarlier = () => {
    const el = scroller.current;
    if (start === 0) onOlder();
    if (!el || start === 0 || restore.current) return;
    restore.current = anchor(el);
    const grown = shownCount + PAGE;
    if (grown <= WINDOW || needed > 0) {
      setCount(grown);
      return;
    }
    setCount(WINDOW);
    setLastId(history.at(Math.max(start - PAGE, 0) + WINDOW - 1)?.id ?? null);
  };

  /** Scrolling back down through a window that dropped the newest rows: a page more at the bottom, one less at the top. */
  const loadLater = () => {
    const el = scroller.current;
    if (!el || !cut || restore.current) return;
    restore.current = anchor(el);
    const nextEnd = Math.min(total, end + PAGE);
    setLastId(nextEnd >= total ? null : (history.at(nextEnd - 1)?.id ?? null));
  };

  const jumpToLatest = () => {
    stick.current = true;
    setLastId(null);
    setCount(PAGE);
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
    setAtBottom(true);
    onJumpToLatest();
  };

  /** Arrow keys move between messages; Escape leaves the list for the composer. */
  const onKeyDown = (event: KeyboardEvent<HTMLOListElement>) => {
    const row = (event.target as HTMLElement).closest('li.message');
    if (!row || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === 'Escape') {
      event.preventDefault();
      onEscape();
      return;
    }
    if (event.target !== row) return;
    const rows = [...(event.currentTarget.querySelectorAll<HTMLElement>('li.message'))];
    const at = rows.indexOf(row as HTMLElement);
    const next = { ArrowUp: at - 1, ArrowDown: at + 1, Home: 0, End: rows.length - 1, PageUp: at - 10, PageDown: at + 10 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    if (next < 0 && start > 0) loadEarlier();
    if (next >= rows.length && cut) loadLater();
    rows[Math.max(0, Math.min(rows.length - 1, next))]?.focus();
  };

  return (
    <div className="message-area">
      <div className="message-scroller" ref={scroller} onScroll={onScroll}>
        {start === 0 ? (
          <p className="history-start muted">{total === 0 ? 'No messages yet. Say hello!' : 'This is the beginning of the conversation.'}</p>
        ) : (
          <p className="history-start">
            <button type="button" className="link" onClick={loadEarlier}>
              Show earlier messages
            </button>
          </p>
        )}
        <ol
          className="messages"
          aria-label="Messages (arrow keys move between them)"
          aria-live="polite"
          aria-relevant="additions"
          onKeyDown={onKeyDown}
          onFocus={(event) => {
            const id = (event.target as HTMLElement).closest('li.message')?.getAttribute('data-message-id');
            if (id && id !== currentId) setCurrentId(id);
          }}
        >
          {shown.map((message, i) => {
            const previous = i > 0 ? shown[i - 1] : start > 0 ? history.at(start - 1) : undefined;
            const happened = eventsBetween(events, previous?.createdAt ?? -Infinity, message.createdAt);
            // A day line goes before the first thing of each day, event or message.
            let dayOfLast = previous?.createdAt;
            const dayLine = (at: number) => {
              const newDay = dayOfLast === undefined || !sameDay(dayOfLast, at);
              dayOfLast = at;
              return newDay;
            };
            const eventLines = happened.map((event) => (
              <Fragment key={`event-${event.id}`}>
                {dayLine(event.at) && <DayLine at={event.at} />}
                <TimelineLine event={event} me={me} />
              </Fragment>
            ));
            const newDay = dayLine(message.createdAt);
            const unreadStart = message.id === firstUnreadId;
            const showHeader =
              newDay || unreadStart || happened.length > 0 || !previous || previous.author !== message.author || message.createdAt - previous.createdAt > RUN_GAP_MS;
            return (
              <Fragment key={message.id}>
                {eventLines}
                {newDay && <DayLine at={message.createdAt} />}
                {unreadStart && (
                  <li className="new-messages" id="new-messages">
                    <span>New messages</span>
                  </li>
                )}
                <MessageRow
                  conversationId={conversationId}
                  message={message}
                  showHeader={showHeader}
                  me={me}
                  myUsername={myUsername}
                  canDeleteOthers={canDeleteOthers}
                  quoted={message.replyTo ? history.get(message.replyTo) : undefined}
                  seenBy={seen.get(message.id) ?? NOBODY}
                  highlighted={message.id === targetId}
                  latestOfMine={message.id === latestOfMine}
                  current={message.id === focusable}
                  online={online}
                  actions={actions}
                />
              </Fragment>
            );
          })}
          {!cut && eventsBetween(events, last?.createdAt ?? -Infinity, Infinity).map((event, i, after) => {
            const since = i > 0 ? after[i - 1]?.at : last?.createdAt;
            return (
              <Fragment key={`event-${event.id}`}>
                {(since === undefined || !sameDay(since, event.at)) && <DayLine at={event.at} />}
                <TimelineLine event={event} me={me} />
              </Fragment>
            );
          })}
        </ol>
        {cut && (
          <p className="history-start">
            <button type="button" className="link" onClick={loadLater}>
              Show later messages
            </button>
          </p>
        )}
      </div>
      {!atBottom && (
        <button type="button" className="jump-latest" onClick={jumpToLatest}>
          ↓ Jump to latest
        </button>
      )}
    </div>
  );
}

function TimelineLine({ event, me }: { event: TimelineEvent; me: string }) {
  return (
    <li className="timeline-event muted" data-event-kind={event.kind}>
      <span>{describeEvent(event, me)}</span>{' '}
      <time dateTime={new Date(event.at).toISOString()}>{new Date(event.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</time>
    </li>
  );
}

function DayLine({ at }: { at: number }) {
  return (
    <li className="day-separator">
      <span>{dayLabel(at)}</span>
    </li>
  );
}
