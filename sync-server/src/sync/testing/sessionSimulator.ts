// Honest sessions, simulated in one process (see simulatedDevice.ts and simulatedServer.ts):
// users with roles, each with devices, each device with one or two tabs, doing anything the SDK
// can do — send, reply, edit any number of times, delete (author or moderator), react, unreact,
// toggle, mark read, drafts; one at a time or several in one transaction; online or offline —
// through the shared-schema write helpers the SDK uses and with the SDK's own guards. Frames
// travel in random orders: connections interleaved, updates merged in batches, reconnect races
// (an update sent before the step 2 that carries what it builds on), sockets dropping, apps and
// the node restarting. With several nodes over one log, devices reach one node each (an app
// restart may reach another), and nodes hear of each other's entries by notices that arrive
// late, or are lost with Redis (the nodes then ask the log). Segment logs are compacted now and
// then, as nodes do. At the end every device comes online and syncs until nothing moves.
import * as Y from 'yjs';
import {
  markRead,
  parseDocName,
  parseReactionKey,
  reactionKey,
  removeReaction,
  segmentMaps,
  userMaps,
  writeDeletion,
  writeEdit,
  writeMessage,
  writeReaction,
  type ConversationId,
  type DeviceId,
  type MessageId,
  type Role,
  type UserId,
} from '@outpost/shared-schema';
import type { SqliteStorage } from '@outpost/storage';
import type { Logger } from '../../log.ts';
import { mergeCollected } from '../compaction.ts';
import { LoadedDocuments } from '../documents.ts';
import type { SegmentChanges } from '../validate.ts';
import { rngOf, type Rng } from './random.ts';
import { Device, Tab, type Meta, type TabHost, type Visible } from './simulatedDevice.ts';
import { SimServer, type ObservedFrame, type Peer, type ServerHost, type ToServer } from './simulatedServer.ts';

const EMOJI = ['👍', '🎉', '❤️', 'ok'] as const;

/** Sessions run so far in this process: a seed run twice on one database needs other ids. */
let sessionsRun = 0;

export interface SessionReport {
  seed: number;
  refusals: string[];
  problems: string[];
  stats: {
    users: number;
    devices: number;
    steps: number;
    frames: number;
    held: number;
    /** Updates still held when the random part ended (the final sync must release them). */
    waitingBeforeSync: number;
    messages: number;
    segments: number;
    restarts: number;
    serverRestarts: number;
    /** Updates the nodes committed in runs of independent updates (see batch.ts). */
    batched: number;
    /** Segment logs compacted while the session ran. */
    compactions: number;
    /** Notices one node sent another that were lost (with several nodes). */
    lostNotices: number;
  };
}

export interface SessionOptions {
  /** Random steps before the final sync (default: mostly 20–80, sometimes 150–300). */
  steps?: number;
  /** Called with every frame the server is about to judge. */
  observe?: (frame: ObservedFrame) => void;
  /** Nodes sharing the log (default 1). */
  nodes?: number;
  /**
   * Segment logs compacted now and then (default true). Off for seeds recorded before it: a
   * compacted log loads differently after a restart, so the session would be another one.
   */
  compaction?: boolean;
}

/** A notice on its way from one node to another. */
interface Notice {
  to: SimServer;
  name: string;
  version: number;
  update: Uint8Array | null;
}

class Session implements TabHost, ServerHost {
  readonly #rng: Rng;
  /** Randomness for compaction, apart from `#rng`; null when the session does not compact. */
  readonly #side: Rng | null;
  readonly #storage: SqliteStorage;
  readonly conversationId: ConversationId;
  readonly #segmentSize: number;
  /** How busy people are against how fast frames travel: some sessions are mostly offline work, some mostly online. */
  readonly #tempo: number;
  readonly #users: Peer[] = [];
  readonly #devices: Device[] = [];
  readonly servers: SimServer[];
  readonly #notices: Notice[] = [];
  /** Nodes that lost notices and have not asked the log yet. */
  readonly #resumeLater = new Set<SimServer>();
  #lostNotices = 0;
  /** Updates batched by nodes that have since restarted. */
  #batched = 0;
  #compactions = 0;
  meta: Meta | null = null;
  readonly logger: Logger;
  readonly observe: ((frame: ObservedFrame) => void) | undefined;
  readonly #refusals: string[] = [];
  readonly #problems: string[] = [];
  readonly #clientIds = new Set<number>();
  #clock = 1_700_000_000_000;
  #frames = 0;
  #held = 0;
  #serverRestarts = 0;
  #waitingBeforeSync = 0;
  readonly #run: string;

  constructor(rng: Rng, side: Rng | null, storage: SqliteStorage, observe?: (frame: ObservedFrame) => void, nodes = 1) {
    this.#rng = rng;
    this.#side = side;
    this.#storage = storage;
    this.observe = observe;
    this.#run = (sessionsRun++).toString(16).padStart(8, '0');
    this.conversationId = this.#id() as ConversationId;
    this.#segmentSize = rng.pick([2, 3, 5, 1000]);
    this.#tempo = rng.pick([0.1, 0.2, 0.3, 0.4]);
    const report = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
      this.problem(`${level}: ${msg} ${JSON.stringify(fields ?? {}, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`);
    this.logger = { debug: () => undefined, info: () => undefined, warn: report('warn'), error: report('error') };
    this.servers = Array.from({ length: nodes }, () => new SimServer(this, storage, this.#segmentSize, nodes > 1));
  }

  serverFor(device: Device): SimServer {
    return this.servers[device.node % this.servers.length] as SimServer;
  }

  /** Every connection ever opened to the nodes running now. */
  #links() {
    return this.servers.flatMap((server) => server.links);
  }

  committed(from: SimServer, name: string, version: number, entry: Uint8Array): void {
    // With one node nobody hears (and a seed's one-node session draws what it always drew).
    if (this.servers.length === 1) return;
    // Redis carries small entries inline; a notice without one makes the node ask the log.
    const update = this.#rng.chance(0.7) ? entry : null;
    for (const to of this.servers) if (to !== from) this.#notices.push({ to, name, version, update });
  }

  /** Delivers a pending notice: the oldest to its node, mostly, sometimes a later one first. */
  async #deliverNotice(): Promise<void> {
    const index = this.#rng.chance(0.8) ? 0 : this.#rng.int(this.#notices.length);
    const [notice] = this.#notices.splice(index, 1);
    if (!notice || !this.servers.includes(notice.to)) return; // the node restarted meanwhile
    await notice.to.notice(notice.name, notice.version, notice.update);
  }

  /** Redis goes away and comes back: a node's pending notices are lost, and it asks the log. */
  async #loseNotices(): Promise<void> {
    const to = this.#rng.pick(this.servers);
    const lost = this.#notices.filter((n) => n.to === to).length;
    this.#lostNotices += lost;
    this.#notices.splice(0, this.#notices.length, ...this.#notices.filter((n) => n.to !== to));
    // Sometimes the node has not noticed yet when the next frames come.
    if (this.#rng.chance(0.5)) await to.resumed();
    else this.#resumeLater.add(to);
  }

  // ── TabHost and ServerHost ──

  newClientId(): number {
    for (;;) {
      const id = 1 + this.#rng.int(2 ** 32 - 1);
      if (!this.#clientIds.has(id)) {
        this.#clientIds.add(id);
        return id;
      }
    }
  }

  refused(what: string): void {
    this.#refusals.push(what);
  }

  problem(what: string): void {
    this.#problems.push(what);
  }

  segmentApplied(doc: Y.Doc, changes: SegmentChanges, cursor: { head: number; lastSeq: number } | undefined): void {
    // Nothing but the deletion lives on for a deleted message.
    const maps = segmentMaps(doc);
    for (const id of changes.touched) {
      if (!maps.deletions.has(id)) continue;
      if (maps.edits.has(id)) this.problem(`message ${id} is deleted but its edit lives on`);
      for (const key of maps.reactions.keys()) if (parseReactionKey(key)?.messageId === id) this.problem(`message ${id} is deleted but reaction ${key} lives on`);
    }
    if (!cursor) return;
    const meta = { head: Math.max(cursor.head, this.meta?.head ?? 0), lastSeq: Math.max(cursor.lastSeq, this.meta?.lastSeq ?? 0), segmentSize: this.#segmentSize };
    this.meta = meta;
    // The server document follows on its own connection, later than the segment.
    for (const tab of this.#liveTabs()) if (tab.socketUp) tab.metaIn.push(meta);
  }

  // ── setting up ──

  /** Creates the users, the conversation and the devices. */
  async setUp(): Promise<void> {
    const rng = this.#rng;
    for (let i = rng.between(2, 4); i > 0; i--) {
      const role: Role = this.#users.length === 0 ? 'owner' : rng.chance(0.3) ? 'admin' : 'member';
      const userId = this.#id() as UserId;
      this.#users.push({ userId, deviceId: '' as DeviceId, role });
      await this.#storage.accounts.createUser({ id: userId, username: `u${userId}`, displayName: 'someone', passwordHash: 'x', createdAt: 1 });
    }
    await this.#storage.conversations.createConversation({
      id: this.conversationId,
      kind: 'group',
      title: 'field team',
      createdBy: (this.#users[0] as Peer).userId,
      createdAt: 1,
      members: this.#users.map((u) => ({ userId: u.userId, role: u.role })),
    });
    // The server document holds the conversation's meta from its creation on.
    this.meta = { head: 0, lastSeq: 0, segmentSize: this.#segmentSize };
    for (const user of this.#users) {
      for (let i = rng.chance(0.35) ? rng.between(2, 3) : 1; i > 0; i--) {
        const device = new Device({ ...user, deviceId: rng.uuid() as DeviceId });
        this.#devices.push(device);
        this.#startTabs(device);
        for (const tab of device.tabs) if (rng.chance(0.8)) tab.connect();
      }
    }
  }

  /** A UUID from the seed, unique in the database (ids never change what a session does). */
  #id(): string {
    return this.#run + this.#rng.uuid().slice(8);
  }

  #startTabs(device: Device): void {
    device.tabs = [];
    for (let i = this.#rng.chance(0.2) ? 2 : 1; i > 0; i--) device.tabs.push(new Tab(this, device));
  }

  #liveTabs(): Tab[] {
    return this.#devices.flatMap((d) => d.tabs.filter((t) => !t.closed));
  }

  #now(): number {
    this.#clock += 1 + this.#rng.int(5_000);
    return this.#clock;
  }

  // ── what people do ──

  #op(tab: Tab): void {
    const rng = this.#rng;
    const me = tab.device.peer;
    const roll = rng.next();
    const visible = tab.messages();
    if (roll < 0.3 || visible.length === 0) return this.#send(tab);
    if (roll < 0.45) return this.#burst(tab, visible);
    const target = rng.pick(visible);
    if (roll < 0.58) {
      // Edit, any number of times: only the author, never a message this tab sees deleted.
      const mine = visible.filter((m) => m.author === me.userId && !m.deleted);
      if (mine.length === 0) return this.#send(tab);
      const message = rng.pick(mine);
      for (let i = rng.between(1, 4); i > 0; i--) writeEdit(message.doc, message.id, { body: `edit ${rng.int(1_000)}`, editedAt: this.#now() });
    } else if (roll < 0.64) {
      // Delete: the author, or an owner/admin (the app offers it to no one else); the SDK skips one it sees deleted.
      if (target.deleted || (target.author !== me.userId && me.role === 'member')) return;
      writeDeletion(target.doc, target.id, { by: me.userId, at: this.#now() });
    } else if (roll < 0.8) {
      this.#reactions(target, me.userId);
    } else if (roll < 0.92) {
      // markRead: never past the last number this tab knows of.
      for (let i = rng.between(1, 3); i > 0; i--) {
        const last = tab.lastSeq();
        const seq = rng.chance(0.6) ? last : Math.min(1 + rng.int(Math.max(1, last)), last);
        if (seq > 0) markRead(tab.userDoc, this.conversationId, me.deviceId, seq);
      }
    } else {
      const drafts = userMaps(tab.userDoc).drafts;
      if (rng.chance(0.3)) drafts.delete(this.conversationId);
      else drafts.set(this.conversationId, `draft ${rng.int(1_000)}`);
    }
  }

  #send(tab: Tab): void {
    const rng = this.#rng;
    const visible = tab.messages();
    const mentions = rng.chance(0.2) ? this.#users.filter(() => rng.chance(0.5)).map((u) => u.userId) : [];
    for (let i = rng.chance(0.2) ? rng.between(2, 6) : 1; i > 0; i--) {
      writeMessage(tab.segment(tab.targetSegment()), rng.uuid() as MessageId, {
        author: tab.device.peer.userId,
        createdAt: this.#now(),
        body: `m${rng.int(100_000)}${rng.chance(0.05) ? ' '.repeat(rng.int(3)) + 'x'.repeat(rng.int(2_000)) : ''}`,
        ...(visible.length > 0 && rng.chance(0.2) ? { replyTo: rng.pick(visible).id } : {}),
        ...(mentions.length > 0 ? { mentions } : {}),
      });
    }
  }

  /** React, unreact or toggle, repeatedly; the SDK refuses to react to a message it sees deleted. */
  #reactions(target: { id: MessageId; doc: Y.Doc }, me: UserId): void {
    const rng = this.#rng;
    for (let i = rng.between(1, 4); i > 0; i--) {
      const emoji = rng.pick(EMOJI);
      const maps = segmentMaps(target.doc);
      const react = rng.chance(0.2) ? true : rng.chance(0.2) ? false : !maps.reactions.has(reactionKey(target.id, emoji, me));
      if (!react) removeReaction(target.doc, target.id, emoji, me);
      else if (!maps.deletions.has(target.id)) writeReaction(target.doc, target.id, emoji, me, this.#now());
    }
  }

  /** Several operations on one segment in one transaction (edits, reactions, a deletion). */
  #burst(tab: Tab, visible: Visible[]): void {
    const rng = this.#rng;
    const me = tab.device.peer;
    const doc = rng.pick(visible).doc;
    doc.transact(() => {
      for (let i = rng.between(2, 5); i > 0; i--) {
        const target = rng.pick(tab.messages().filter((m) => m.doc === doc));
        const roll = rng.next();
        if (roll < 0.4) {
          if (target.author === me.userId && !target.deleted) writeEdit(doc, target.id, { body: `burst ${rng.int(1_000)}`, editedAt: this.#now() });
        } else if (roll < 0.85) {
          this.#reactions(target, me.userId);
        } else if (!target.deleted && (target.author === me.userId || me.role !== 'member')) {
          writeDeletion(doc, target.id, { by: me.userId, at: this.#now() });
        }
      }
    });
  }

  // ── how frames travel ──

  /** Hands the server the next frame of up to `n` connections, concurrently (one per connection at a time). */
  async #deliver(n: number): Promise<void> {
    const ready = this.#rng.shuffle(this.#links().filter((l) => l.open && l.out.length > 0)).slice(0, n);
    await Promise.all(
      ready.map((link) => {
        let frame = link.out.shift() as ToServer;
        // The provider merges the updates made within its flush delay into one.
        if (frame.kind === 'update' && this.#rng.chance(0.3)) {
          const batch = [frame.update];
          while (link.out[0]?.kind === 'update' && this.#rng.chance(0.7)) batch.push((link.out.shift() as { update: Uint8Array }).update);
          if (batch.length > 1) frame = { kind: 'update', update: Y.mergeUpdates(batch) };
        }
        this.#frames += 1;
        return link.server.handle(link, frame);
      }),
    );
  }

  /** A tab handles one thing that reached it (a server frame, another tab's change, the server document's meta). */
  #receiveOne(): boolean {
    const choices: (() => void)[] = [];
    for (const tab of this.#liveTabs()) {
      for (const link of tab.links.values()) if (link.in.length > 0) choices.push(() => tab.receive(link));
      if (tab.relayed.length > 0) choices.push(() => tab.receiveRelayed());
      if (tab.metaIn.length > 0) choices.push(() => tab.receiveMeta());
    }
    if (choices.length === 0) return false;
    this.#rng.pick(choices)();
    return true;
  }

  /** A node restarts: its sockets drop; documents load again from the log. */
  #restartServer(): void {
    const index = this.servers.length > 1 ? this.#rng.int(this.servers.length) : 0;
    const old = this.servers[index] as SimServer;
    for (const tab of this.#liveTabs()) if ([...tab.links.values()].some((link) => link.server === old)) tab.disconnect();
    this.#held += old.links.reduce((n, l) => n + l.held, 0);
    this.#batched += old.writePath.stats.batchedUpdates;
    old.close();
    this.servers[index] = new SimServer(this, this.#storage, this.#segmentSize, this.servers.length > 1);
    this.#resumeLater.delete(old);
    this.#serverRestarts += 1;
  }

  async #step(): Promise<void> {
    const rng = this.#rng;
    if (rng.chance(this.#tempo)) return this.#op(rng.pick(this.#liveTabs()));
    if (this.servers.length > 1 && rng.chance(0.25)) {
      // Nodes hear of each other: notices arrive, or are lost with Redis, or Redis is back.
      const roll = rng.next();
      if (roll < 0.9) {
        for (let i = rng.between(1, 4); i > 0 && this.#notices.length > 0; i--) await this.#deliverNotice();
      } else if (roll < 0.95) {
        await this.#loseNotices();
      } else {
        for (const server of this.#resumeLater) await server.resumed();
        this.#resumeLater.clear();
      }
      return;
    }
    if (this.#side !== null && this.#side.chance(0.03)) {
      // A node compacts a segment's log (garbage-collected base), as it does every 200 entries.
      // From a stream of its own: what people do and how frames travel are drawn as without it.
      const names = [...new Set(this.servers.flatMap((server) => [...server.loaded.keys()]))].filter((name) => parseDocName(name)?.kind === 'segment');
      if (names.length > 0) {
        await this.#storage.log.compact(this.#side.pick(names), mergeCollected);
        this.#compactions += 1;
      }
    }
    const roll = rng.next();
    if (roll < 0.43) {
      await this.#deliver(rng.between(1, 3));
    } else if (roll < 0.83) {
      for (let i = rng.between(1, 4); i > 0; i--) this.#receiveOne();
    } else if (roll < 0.9) {
      // A device loses or regains the network: its sockets drop with it, and come back one by one.
      const device = rng.pick(this.#devices);
      device.online = !device.online;
      if (!device.online) for (const tab of device.tabs) tab.disconnect();
    } else if (roll < 0.96) {
      // A socket (re)connects, or drops on its own (a blip, a frozen background tab).
      const tab = rng.pick(this.#liveTabs());
      if (tab.socketUp) tab.disconnect();
      else if (tab.device.online) tab.connect();
    } else if (roll < 0.965) {
      // The node restarts: every socket drops; documents load again from the log.
      this.#restartServer();
    } else {
      // The app restarts: new Y.Docs (new client ids) from the replica. Restarts are capped:
      // one step 2 may bring at most UpdateCaps.newClients new client ids, and a device that
      // restarts dozens of times offline meets that limit on purpose.
      const device = rng.pick(this.#devices);
      if (device.restarts < 6) {
        for (const tab of device.tabs) tab.close();
        device.restarts += 1;
        // With several nodes, the load balancer may send it to another.
        if (this.servers.length > 1) device.node = rng.int(this.servers.length);
        this.#startTabs(device);
      }
      if (device.online) for (const tab of device.tabs) if (rng.chance(0.7)) tab.connect();
    }
  }

  /** Runs the random part, then lets every device come online and sync until nothing moves. */
  async run(steps: number): Promise<Omit<SessionReport, 'seed'>> {
    for (let i = 0; i < steps; i++) await this.#step();
    this.#waitingBeforeSync = this.#links().reduce((n, l) => n + (l.open ? l.waiting : 0), 0);
    // Redis is back for every node that lost notices.
    for (const server of this.#resumeLater) await server.resumed();
    this.#resumeLater.clear();
    // Every device comes online; sockets that are up stay up (a frame never acknowledged on
    // them would leave the provider "unsynced" for good, and must show).
    for (const device of this.#devices) {
      device.online = true;
      for (const tab of device.tabs) if (!tab.closed && !tab.socketUp) tab.connect();
    }
    for (let rounds = 0; ; rounds++) {
      if (rounds > 100_000) {
        this.problem('the final sync never settled');
        break;
      }
      if (this.#links().some((l) => l.open && l.out.length > 0)) await this.#deliver(3);
      else if (this.#notices.length > 0) await this.#deliverNotice();
      else if (!this.#receiveOne()) break;
    }
    const names = new Set(this.servers.flatMap((server) => [...server.loaded.keys()].filter((name) => parseDocName(name)?.kind === 'segment')));
    const segments: Y.Doc[] = [];
    for (const name of names) {
      const doc = new Y.Doc();
      await new LoadedDocuments(this.#storage.log, this.logger).load(name, doc);
      segments.push(doc);
      for (const server of this.servers) {
        const copy = server.loaded.get(name);
        if (copy && (!Y.equalSnapshots(Y.snapshot(copy), Y.snapshot(doc)) || contentOf(copy) !== contentOf(doc))) this.problem(`${name}: a node's copy differs from the log`);
      }
    }
    await this.#finalChecks(segments);
    for (const server of this.servers) server.close();
    return {
      refusals: this.#refusals,
      problems: this.#problems,
      stats: {
        users: this.#users.length,
        devices: this.#devices.length,
        steps,
        frames: this.#frames,
        held: this.#held + this.#links().reduce((n, l) => n + l.held, 0),
        waitingBeforeSync: this.#waitingBeforeSync,
        messages: segments.reduce((n, doc) => n + segmentMaps(doc).messages.size, 0),
        segments: segments.length,
        restarts: this.#devices.reduce((n, d) => n + d.restarts, 0),
        serverRestarts: this.#serverRestarts,
        lostNotices: this.#lostNotices,
        compactions: this.#compactions,
        batched: this.#batched + this.servers.reduce((n, server) => n + server.writePath.stats.batchedUpdates, 0),
      },
    };
  }

  async #finalChecks(segments: Y.Doc[]): Promise<void> {
    for (const link of this.#links()) if (link.open && link.waiting !== 0) this.problem(`${link.name}: ${link.waiting} frame(s) never acknowledged after everyone synced (held, or changing nothing)`);
    for (const tab of this.#liveTabs()) {
      for (const [name, doc] of tab.docs) {
        const server = this.serverFor(tab.device).loaded.get(name);
        if (!server) {
          if (doc.store.clients.size > 0) this.problem(`${name}: a replica has content the server never loaded`);
        } else if (!Y.equalSnapshots(Y.snapshot(doc), Y.snapshot(server)) || contentOf(doc) !== contentOf(server)) {
          this.problem(`${name}: a replica of ${tab.device.peer.role} ${tab.device.peer.userId.slice(0, 8)} differs from the server`);
        }
      }
    }
    // One number per message, 1..N over the conversation, as storage counted them.
    const seqs: number[] = [];
    for (const doc of segments) {
      const maps = segmentMaps(doc);
      for (const id of maps.messages.keys()) {
        const seq = maps.seq.get(id)?.seq;
        if (seq === undefined) this.problem(`message ${id} has no number`);
        else seqs.push(seq);
      }
    }
    seqs.sort((a, b) => a - b);
    if (seqs.some((seq, i) => seq !== i + 1)) this.problem(`numbers are not 1..${seqs.length}: ${seqs.join(',')}`);
    const stored = await this.#storage.conversations.getConversation(this.conversationId);
    if (stored?.lastSeq !== seqs.length) this.problem(`storage numbered ${stored?.lastSeq} messages, the segments hold ${seqs.length}`);
  }
}

/** A document's content, root by root, keys sorted (a root nobody wrote is empty either way). */
function contentOf(doc: Y.Doc): string {
  const roots: Record<string, unknown> = {};
  for (const name of [...doc.share.keys()].sort()) {
    const map = doc.getMap(name);
    if (map.size > 0) roots[name] = Object.fromEntries([...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  }
  return JSON.stringify(roots);
}

/** Runs one honest session from `rng` against `storage` (a migrated SQLite database, shared by sessions). */
export async function runHonestSession(seed: number, rng: Rng, storage: SqliteStorage, options: SessionOptions = {}): Promise<SessionReport> {
  const session = new Session(rng, options.compaction === false ? null : rngOf(seed + 0x5eed), storage, options.observe, options.nodes);
  await session.setUp();
  const steps = options.steps ?? (rng.chance(0.1) ? rng.between(150, 300) : rng.between(20, 80));
  return { seed, ...(await session.run(steps)) };
}
