// A conversation's messages as a screen reads them: any range, any message by id or position,
// without a copy of the history. It is the timeline's order (read in place) with the messages that
// still wait for their files among the unnumbered ones at the end. A new window is made on every
// change, at O(log n + unnumbered) cost; an older one reads the timeline as it is now, so read the
// latest (as a render does).
import { compareMessages, type MessageItem } from './messageOrder.ts';
import type { Timeline } from './Timeline.ts';

export class MessageWindow {
  readonly #timeline: Timeline;
  /** Where the unnumbered messages start. */
  readonly #base: number;
  /** The unnumbered messages (this device's pending ones, those waiting for files), in order. */
  readonly #tail: readonly MessageItem[];

  constructor(timeline: Timeline, outgoing: readonly MessageItem[]) {
    this.#timeline = timeline;
    this.#base = timeline.firstAfter(Infinity);
    const tail: MessageItem[] = [];
    for (let i = this.#base; i < timeline.size; i++) tail.push(timeline.at(i) as MessageItem);
    this.#tail = outgoing.length > 0 ? [...tail, ...outgoing].sort(compareMessages) : tail;
  }

  /** Messages on this device (the segments loaded, and messages waiting for their files). */
  get length(): number {
    return this.#base + this.#tail.length;
  }

  at(index: number): MessageItem | undefined {
    if (index < 0) return undefined;
    return index < this.#base ? this.#timeline.at(index) : this.#tail[index - this.#base];
  }

  /** The messages from `start` up to (not including) `end`, like Array.slice with non-negative bounds. */
  slice(start: number, end = this.length): MessageItem[] {
    const out: MessageItem[] = [];
    for (let i = Math.max(0, start); i < Math.min(end, this.length); i++) out.push(this.at(i) as MessageItem);
    return out;
  }

  /** A message's position, or -1 when it is not on this device. */
  indexOf(id: string): number {
    const numbered = this.#timeline.get(id);
    if (numbered && numbered.seq !== null) return this.#timeline.indexOf(id);
    const at = this.#tail.findIndex((item) => item.id === id);
    return at < 0 ? -1 : this.#base + at;
  }

  get(id: string): MessageItem | undefined {
    return this.#timeline.get(id) ?? this.#tail.find((item) => item.id === id);
  }

  /** The position of the first message not numbered yet or numbered after `seq` (length when none). */
  firstAfter(seq: number): number {
    return this.#timeline.firstAfter(seq);
  }

  /** From the newest message back (stop early: the cost is what is read). */
  *newestFirst(): IterableIterator<MessageItem> {
    for (let i = this.length - 1; i >= 0; i--) yield this.at(i) as MessageItem;
  }
}
