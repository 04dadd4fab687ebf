// The client side of a simulated session, as the SDK behaves: a device keeps a replica of every
// change any of its tabs saw (as IndexedDB would); each tab holds its own Y.Docs with their own
// Yjs client ids (a restarted app is a new tab loaded from the replica), relays its local changes
// to the device's other tabs (which apply them as if from their own server connection and so
// never upload them), and syncs each document over its own connection: sync step 1 on connect,
// every local change as an update while the socket is up, step 2 when the server's step 1
// arrives. Its view of the conversation and its guards are those of
// client/src/conversation/Conversation.ts.
import * as Y from 'yjs';
import { Limits, parseDocName, segmentDoc, segmentMaps, userDoc, type ConversationId, type MessageId, type UserId } from '@outpost/shared-schema';
import type { Link, Peer, SimServer, ToClient } from './simulatedServer.ts';

/** Yjs origins on a tab's documents: what came from the replica or another tab is not uploaded. */
const FROM_REPLICA = Symbol('replica');
const FROM_TAB = Symbol('tab');

/** The conversation's server document, as far as a client reads it: where messages go. */
export interface Meta {
  head: number;
  lastSeq: number;
  segmentSize: number;
}

/** What tabs need from the session around them. */
export interface TabHost {
  readonly conversationId: ConversationId;
  /** The server document's meta now (sent to a tab when it connects). */
  readonly meta: Meta | null;
  /** The node a device's sockets reach. */
  serverFor(device: Device): SimServer;
  newClientId(): number;
}

export class Device {
  readonly peer: Peer;
  readonly replica = new Map<string, Y.Doc>();
  tabs: Tab[] = [];
  online = true;
  meta: Meta | null = null;
  restarts = 0;
  /** Which node its sockets reach (with several; an app restart may reach another). */
  node = 0;
  constructor(peer: Peer) {
    this.peer = peer;
  }
  store(name: string, update: Uint8Array): void {
    let doc = this.replica.get(name);
    if (!doc) this.replica.set(name, (doc = new Y.Doc()));
    Y.applyUpdate(doc, update);
  }
}

/** A message as a tab sees it. */
export interface Visible {
  id: MessageId;
  author: UserId;
  doc: Y.Doc;
  deleted: boolean;
}

export class Tab {
  readonly device: Device;
  readonly #host: TabHost;
  readonly docs = new Map<string, Y.Doc>();
  readonly links = new Map<string, Link>();
  readonly relayed: { name: string; update: Uint8Array }[] = [];
  readonly metaIn: Meta[] = [];
  socketUp = false;
  closed = false;
  meta: Meta | null;

  constructor(host: TabHost, device: Device) {
    this.#host = host;
    this.device = device;
    this.meta = device.meta;
    this.open(userDoc(device.peer.userId));
    // The SDK opens every segment up to the head it knows, and those its replica holds.
    for (let n = this.meta?.head ?? 0; n >= 0; n--) this.segment(n);
    for (const name of device.replica.keys()) {
      const parsed = parseDocName(name);
      if (parsed?.kind === 'segment') this.segment(parsed.segment);
    }
  }

  get userDoc(): Y.Doc {
    return this.docs.get(userDoc(this.device.peer.userId)) as Y.Doc;
  }

  open(name: string): Y.Doc {
    const existing = this.docs.get(name);
    if (existing) return existing;
    const doc = new Y.Doc({ gc: true });
    doc.clientID = this.#host.newClientId();
    const stored = this.device.replica.get(name);
    if (stored) Y.applyUpdate(doc, Y.encodeStateAsUpdate(stored), FROM_REPLICA);
    doc.on('update', (update: Uint8Array, origin: unknown) => this.#changed(name, update, origin));
    this.docs.set(name, doc);
    if (this.socketUp) this.#connect(name);
    return doc;
  }

  segment(n: number): Y.Doc {
    return this.open(segmentDoc(this.#host.conversationId, n));
  }

  #changed(name: string, update: Uint8Array, origin: unknown): void {
    if (this.closed || origin === FROM_REPLICA) return;
    this.device.store(name, update);
    if (origin !== null && origin !== undefined) return; // from the server or another tab
    for (const other of this.device.tabs) if (other !== this && !other.closed) other.relayed.push({ name, update });
    // The provider sends every local change while its socket is up (or connecting).
    this.links.get(name)?.out.push({ kind: 'update', update });
  }

  connect(): void {
    this.socketUp = true;
    for (const name of this.docs.keys()) this.#connect(name);
    if (this.#host.meta) this.metaIn.push(this.#host.meta);
  }

  #connect(name: string): void {
    const link = this.#host.serverFor(this.device).connect(name, this.device.peer);
    link.out.push({ kind: 'step1', sv: Y.encodeStateVector(this.docs.get(name) as Y.Doc) });
    this.links.set(name, link);
  }

  disconnect(): void {
    this.socketUp = false;
    for (const link of this.links.values()) link.server.disconnect(link);
    this.links.clear();
    this.metaIn.length = 0;
  }

  close(): void {
    this.disconnect();
    this.closed = true;
    this.relayed.length = 0;
  }

  /** Handles the next frame the server sent on `link`. */
  receive(link: Link): void {
    const frame = link.in.shift() as ToClient;
    const doc = this.docs.get(link.name) as Y.Doc;
    if (frame.kind === 'step1') link.out.push({ kind: 'step2', update: Y.encodeStateAsUpdate(doc, frame.sv) });
    else Y.applyUpdate(doc, frame.update, link);
  }

  receiveRelayed(): void {
    const { name, update } = this.relayed.shift() as { name: string; update: Uint8Array };
    // A document not open here loads from the replica, where the other tab stored it.
    const doc = this.docs.get(name);
    if (doc) Y.applyUpdate(doc, update, FROM_TAB);
  }

  receiveMeta(): void {
    const meta = this.metaIn.shift() as Meta;
    if (this.meta && meta.head < this.meta.head) return;
    this.meta = meta;
    if (!this.device.meta || this.device.meta.head <= meta.head) this.device.meta = meta;
    for (let n = meta.head; n >= 0; n--) this.segment(n);
  }

  // ── the SDK's view ──

  segments(): [number, Y.Doc][] {
    const out: [number, Y.Doc][] = [];
    for (const [name, doc] of this.docs) {
      const parsed = parseDocName(name);
      if (parsed?.kind === 'segment') out.push([parsed.segment, doc]);
    }
    return out;
  }

  messages(): Visible[] {
    const out: Visible[] = [];
    for (const [, doc] of this.segments()) {
      const maps = segmentMaps(doc);
      for (const [id, entry] of maps.messages.entries()) out.push({ id: id as MessageId, author: entry.author, doc, deleted: maps.deletions.has(id) });
    }
    return out;
  }

  /** Where `send` writes: the newest segment with this device's unnumbered messages, else the head (or later if full). */
  targetSegment(): number {
    let pending = -1;
    for (const [n, doc] of this.segments()) {
      if (n <= pending) continue;
      const maps = segmentMaps(doc);
      for (const [id, entry] of maps.messages.entries()) {
        if (entry.author === this.device.peer.userId && !maps.seq.has(id)) {
          pending = n;
          break;
        }
      }
    }
    if (pending >= 0) return pending;
    let head = this.meta?.head ?? 0;
    const size = this.meta?.segmentSize ?? Limits.segmentSize;
    while (segmentMaps(this.segment(head)).messages.size >= size) head += 1;
    return head;
  }

  /** The highest number this tab knows of (markRead never goes past it). */
  lastSeq(): number {
    let max = this.meta?.lastSeq ?? 0;
    for (const [, doc] of this.segments()) for (const entry of segmentMaps(doc).seq.values()) max = Math.max(max, entry.seq);
    return max;
  }
}
