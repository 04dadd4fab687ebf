// Tabs of one user share one replica but each holds its documents in memory. This relays every
// local change between them over a BroadcastChannel, so a message written in one tab shows in
// the others at once, offline too, and lists the other tabs' pending operations.
//
// Why every tab keeps its own socket (and no leader tab): a browser freezes background tabs, and
// a frozen leader would stall every tab's sync while still holding its lock; with a socket per
// tab nothing waits on another tab, so nothing can deadlock. Uploads are not duplicated: a tab
// uploads only what it wrote, relayed changes are applied as if they came from its own server
// connection (which does not send them back), and the server ignores content it already has.
// Every tab that receives a change stores it too: the tab that made it may be closed before its
// own write commits, and the change must outlive it (a sync handshake sends it then).
import type { DocStore } from '../replica/DocStore.ts';
import type { Outbox } from '../replica/Outbox.ts';
import type { PendingOperation } from '../replica/PendingOperation.ts';

type TabMessage =
  | { type: 'update'; tab: string; docName: string; update: Uint8Array }
  | { type: 'recorded'; tab: string; operation: PendingOperation }
  | { type: 'settled'; tab: string; keys: string[] };

export interface TabRelayOptions {
  /** The signed-in device (session) the tabs share: tabs of one device relay, other devices never do. */
  deviceId: string;
  tab: string;
  docs: DocStore;
  outbox: Outbox;
  /** The origin to apply a relayed change with: the document's server connection, so it is not uploaded again. */
  originFor(docName: string): unknown;
}

/** The BroadcastChannel name of one device's tabs (they share its replica and its session). */
export function tabChannelName(deviceId: string): string {
  return `outpost-tabs-${deviceId}`;
}

/** Relays local document changes and outbox events between the tabs of one user. */
export class TabRelay {
  readonly #channel: BroadcastChannel;
  readonly #options: TabRelayOptions;
  readonly #stop: (() => void)[] = [];
  #closed = false;

  constructor(options: TabRelayOptions) {
    this.#options = options;
    this.#channel = new BroadcastChannel(tabChannelName(options.deviceId));
    this.#channel.onmessage = (event: MessageEvent<TabMessage>) => this.#receive(event.data);
    this.#stop.push(
      options.docs.onChange((docName, update, origin) => {
        // Only changes made here; what came from the server or the replica, the others get too.
        if (origin === null || origin === undefined) this.#post({ type: 'update', tab: options.tab, docName, update });
      }),
    );
  }

  /** Tells the other tabs about an operation this tab recorded. */
  recorded(operation: PendingOperation): void {
    this.#post({ type: 'recorded', tab: this.#options.tab, operation });
  }

  /** Tells the other tabs that operations are settled. */
  settled(keys: string[]): void {
    this.#post({ type: 'settled', tab: this.#options.tab, keys });
  }

  #post(message: TabMessage): void {
    // Closed (the app is closing): the other tabs read the replica when they next look.
    if (!this.#closed) this.#channel.postMessage(message);
  }

  #receive(message: TabMessage): void {
    if (message.tab === this.#options.tab) return;
    switch (message.type) {
      case 'update': {
        // Stored here too (see DocStore.applyRelayed); applied where the document is open.
        this.#options.docs.applyRelayed(message.docName, message.update, this.#options.originFor(message.docName));
        return;
      }
      case 'recorded':
        this.#options.outbox.announced(message.operation);
        return;
      case 'settled':
        this.#options.outbox.forget(message.keys);
        return;
    }
  }

  close(): void {
    this.#closed = true;
    for (const stop of this.#stop.splice(0)) stop();
    this.#channel.close();
  }
}
