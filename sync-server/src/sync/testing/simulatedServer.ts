// The server side of a simulated session: the node's documents loaded from the log, the REAL
// write path over them (analyze → validate → commit on SQLite → apply; held updates judged again
// after each apply), and what Hocuspocus does around it: one frame per connection at a time,
// sync step 1 answered with step 2 and the server's own step 1, every applied change broadcast
// to the connections of the document. Several nodes may share one log: each hears of the
// others' entries by notices (as Redis brings them), late, or not at all.
import * as Y from 'yjs';
import { parseDocName, type DeviceId, type Role, type UserId } from '@outpost/shared-schema';
import type { SqliteStorage } from '@outpost/storage';
import type { Connection, Document } from '@hocuspocus/server';
import type { Logger } from '../../log.ts';
import { Committer } from '../committer.ts';
import { commitRequests } from '../commitRequest.ts';
import { LoadedDocuments } from '../documents.ts';
import { Refused } from '../refusals.ts';
import type { SegmentChanges } from '../validate.ts';
import { WritePath, type Submission } from '../writePath.ts';

export type ToServer = { kind: 'step1'; sv: Uint8Array } | { kind: 'step2' | 'update'; update: Uint8Array };
export type ToClient = { kind: 'step1'; sv: Uint8Array } | { kind: 'step2' | 'update'; update: Uint8Array };

/** Who is at the other end of a connection (from the access token, as the server knows it). */
export interface Peer {
  userId: UserId;
  deviceId: DeviceId;
  role: Role;
}

/** The server side of one connection, as the write path sees it: it sends, closes and compares. */
class SimConnection {
  readonly context = {};
  readonly messageAddress: string;
  sends = 0;
  closedWith: string | null = null;
  constructor(name: string) {
    this.messageAddress = name;
  }
  send(): void {
    this.sends += 1;
  }
  close(event: { code: number; reason: string }): void {
    this.closedWith ??= event.reason;
  }
}

/** One connection for one document while a socket is up: frames in order both ways. */
export class Link {
  readonly name: string;
  readonly peer: Peer;
  /** The node this connection reached. */
  readonly server: SimServer;
  readonly connection: SimConnection;
  readonly out: ToServer[] = [];
  readonly in: ToClient[] = [];
  open = true;
  /** Frames held by the write path (counted for the report). */
  held = 0;
  /**
   * Frames the write path must acknowledge, each once: every update frame (applied, changing
   * nothing, or released later), and every step 2 it held (Hocuspocus acknowledges the others).
   * The provider counts its unsent changes down by these; one missing leaves it "unsynced".
   */
  owedAcks = 0;
  constructor(name: string, peer: Peer, server: SimServer) {
    this.name = name;
    this.peer = peer;
    this.server = server;
    this.connection = new SimConnection(name);
  }
  /** Acknowledgements still owed (held updates not released yet, or lost ones). */
  get waiting(): number {
    return this.owedAcks - this.connection.sends;
  }
}

/** A frame about to be judged (for generators that start from honest updates). */
export interface ObservedFrame {
  name: string;
  /** The server's copy, as it is before the frame is judged. */
  doc: Y.Doc;
  update: Uint8Array;
  kind: 'step2' | 'update';
  peer: Peer;
}

/** What the server reports to the session running it. */
export interface ServerHost {
  readonly logger: Logger;
  refused(what: string): void;
  problem(what: string): void;
  /** A segment entry was applied (its changes, and the conversation's numbering if it moved). */
  segmentApplied(doc: Y.Doc, changes: SegmentChanges, cursor: { head: number; lastSeq: number } | undefined): void;
  observe?(frame: ObservedFrame): void;
  /** This node appended `entry` at `version` (the other nodes hear of it by a notice). */
  committed?(from: SimServer, name: string, version: number, entry: Uint8Array): void;
}

export class SimServer {
  readonly #host: ServerHost;
  readonly #shared: boolean;
  readonly #documents: LoadedDocuments;
  readonly writePath: WritePath;
  readonly #docs = new Map<string, Promise<Y.Doc>>();
  /** The documents loaded so far, by name. */
  readonly loaded = new Map<string, Y.Doc>();
  readonly #subscribers = new Map<string, Set<Link>>();
  /** Every connection ever opened to this server (their held counts are checked at the end). */
  readonly links: Link[] = [];

  /** `shared`: other nodes append to the same log (notices may leave this node's copies behind). */
  constructor(host: ServerHost, storage: SqliteStorage, segmentSize: number, shared = false) {
    this.#host = host;
    this.#shared = shared;
    this.#documents = new LoadedDocuments(storage.log, host.logger);
    this.writePath = new WritePath({
      documents: this.#documents,
      committer: new Committer((requests, now) => commitRequests(storage.log, requests, now), host.logger),
      log: host.logger,
      segmentSize,
      hooks: {
        admitMessages: async () => undefined, mayPost: async () => true,
        numberedIn: async (conversationId, messageId) => (await storage.projection.getMessage(conversationId, messageId))?.segment ?? null,
        committed: (name, version, entry) => host.committed?.(this, name, version, entry),
        segmentApplied: (_conversationId, _segment, doc, changes, outcome) => host.segmentApplied(doc, changes, outcome.cursor),
        readsApplied: () => undefined,
      },
    });
  }

  close(): void {
    this.writePath.close();
  }

  async #open(name: string): Promise<Y.Doc> {
    let doc = this.#docs.get(name);
    if (!doc) {
      doc = (async () => {
        const fresh = new Y.Doc();
        await this.writePath.exclusive(name, () => this.#documents.load(name, fresh));
        fresh.on('update', (update: Uint8Array) => {
          for (const link of this.#subscribers.get(name) ?? []) if (link.open) link.in.push({ kind: 'update', update });
        });
        this.loaded.set(name, fresh);
        return fresh;
      })();
      this.#docs.set(name, doc);
    }
    return doc;
  }

  connect(name: string, peer: Peer): Link {
    const link = new Link(name, peer, this);
    this.links.push(link);
    return link;
  }

  /** The socket went away: Hocuspocus stops sending, the write path forgets what the connection had waiting. */
  disconnect(link: Link): void {
    link.open = false;
    this.#subscribers.get(link.name)?.delete(link);
    this.writePath.connectionClosed(link.connection.context);
  }

  /** Handles one frame of `link`; the caller hands a link's frames over one at a time. */
  async handle(link: Link, frame: ToServer): Promise<void> {
    const doc = await this.#open(link.name);
    if (!link.open) return;
    if (frame.kind === 'step1') {
      // As SyncEngine does: answer from a copy that has what notices announced.
      if (this.#shared) {
        await this.writePath.current(link.name, doc as Document);
        if (!link.open) return;
      }
      let subscribers = this.#subscribers.get(link.name);
      if (!subscribers) this.#subscribers.set(link.name, (subscribers = new Set()));
      subscribers.add(link);
      link.in.push({ kind: 'step2', update: Y.encodeStateAsUpdate(doc, frame.sv) }, { kind: 'step1', sv: Y.encodeStateVector(doc) });
      return;
    }
    const docName = parseDocName(link.name) as Submission['docName'];
    const { peer } = link;
    this.#host.observe?.({ name: link.name, doc, update: frame.update, kind: frame.kind, peer });
    try {
      const result = await this.writePath.submit({
        name: link.name,
        docName,
        doc: doc as Document,
        update: frame.update,
        sender: { userId: peer.userId, deviceId: peer.deviceId },
        role: docName.kind === 'segment' ? peer.role : null,
        connection: link.connection as unknown as Connection,
        frame: frame.kind,
      });
      if (result === 'held') link.held += 1;
      if (frame.kind === 'update' || result === 'held') link.owedAcks += 1;
    } catch (error) {
      const refusal = error instanceof Refused ? error.reason : `not a refusal: ${String((error as Error).stack ?? error)}`;
      this.#host.refused(`${link.name} ${frame.kind} from ${peer.role} ${peer.userId.slice(0, 8)}: ${refusal}`);
      link.connection.close({ code: 4000, reason: refusal });
    }
    if (link.connection.closedWith !== null) this.disconnect(link);
    this.#checkAfter(link.name, doc, 'a frame');
  }

  /** Another node appended to `name` (a notice, its entry inline or not). */
  async notice(name: string, version: number, update: Uint8Array | null): Promise<void> {
    const loading = this.#docs.get(name);
    if (!loading) return; // not open here: it loads from the log when it is
    const doc = await loading;
    await this.writePath.received(name, doc as Document, { version, update });
    this.#checkAfter(name, doc, 'a notice');
  }

  /** Notices were lost (Redis went away and came back): every open document asks the log. */
  async resumed(): Promise<void> {
    for (const [name, doc] of this.loaded) {
      await this.writePath.catchUp(name, doc as Document);
      this.#checkAfter(name, doc, 'a catch-up');
    }
  }

  #checkAfter(name: string, doc: Y.Doc, what: string): void {
    if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null) this.#host.problem(`${name}: structs pending after ${what}`);
    // A held update judged again meanwhile may have been refused on its own connection.
    for (const other of [...(this.#subscribers.get(name) ?? [])]) {
      if (other.connection.closedWith === null) continue;
      this.#host.refused(`${other.name} (held) from ${other.peer.role} ${other.peer.userId.slice(0, 8)}: ${other.connection.closedWith}`);
      this.disconnect(other);
    }
  }
}
