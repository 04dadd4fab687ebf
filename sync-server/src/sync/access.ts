// Who may open which document, and whether they still may: tokens, membership, sessions and
// connection limits. Sockets are counted where they open and close (the `ws` layer), so no path
// through Hocuspocus can leak a slot. Membership and session answers are cached briefly; changes
// made on this node take effect at once, the sweep catches the rest.
import { randomBytes } from 'node:crypto';
import { OutpostError, parseDocName, unreachable, type ConversationId, type DeviceId, type DocName, type Posting, type Role, type UserId } from '@outpost/shared-schema';
import type { Storage } from '@outpost/storage';
import type { TokenSigner } from '../auth/tokens.ts';
import { ConnectionLimits } from '../rateLimiter.ts';
import { Refused } from './refusals.ts';
import type { Sender } from './validate.ts';

/** How long a membership or session answer is trusted before it is asked again. */
export const RECHECK_MS = 2_000;
/**
 * How often the roles in use are asked again, all in one query, before they go stale: a member
 * who keeps writing is never made to wait for storage (each message used to ask it every
 * RECHECK_MS, a query per member and conversation, hundreds a second on a busy node).
 */
export const ROLES_REFRESH_MS = 1_500;
/** A role not asked for this long is no longer refreshed (it is asked for again when needed). */
const ROLE_IN_USE_MS = 30_000;

/** One WebSocket: opened and closed by the server, whatever Hocuspocus does with its documents. */
export class SocketRecord {
  /** For logs and traces. Hex from one buffer is one flat string; randomUUID() builds a ~200-byte cons string. */
  readonly id = randomBytes(16).toString('hex');
  userId: UserId | null = null;
  /** The signed-in device it serves (set with userId). */
  deviceId: DeviceId | null = null;
  closed = false;
  /** Closes the WebSocket itself (set where it opened). */
  terminate: (code: number, reason: string) => void = () => undefined;
  /** Document connections admitted on this socket: connection key → document name. */
  readonly connections = new Map<number, string>();
  /** The last connection key given out on this socket (keys start at 1). */
  lastKey = 0;
}

/** What a document connection carries after authentication. */
export interface ConnectionContext extends Sender {
  doc: DocName;
  socket: SocketRecord;
  /** This document connection, among the socket's (from 1). */
  connectionKey: number;
}

const denied = (kind: 'unauthorized' | 'forbidden', message: string) => new Refused(kind, kind === 'unauthorized' ? 'signedOut' : 'accessLost', message);

export class AccessControl {
  readonly #storage: Storage;
  readonly #signer: TokenSigner;
  readonly #roles = new Map<string, { role: Role | null; at: number; usedAt: number; conversationId: ConversationId; userId: UserId }>();
  readonly #posting = new Map<ConversationId, { posting: Posting; at: number }>();
  readonly #sessions = new Map<DeviceId, { active: boolean; at: number }>();
  readonly #userSockets = new Map<UserId, Set<SocketRecord>>();

  constructor(storage: Storage, signer: TokenSigner) {
    this.#storage = storage;
    this.#signer = signer;
  }

  /** A WebSocket opened. */
  openSocket(): SocketRecord {
    return new SocketRecord();
  }

  /** A WebSocket closed: its slot is free again, whatever was in flight on it. */
  closeSocket(socket: SocketRecord): void {
    socket.closed = true;
    socket.connections.clear();
    if (!socket.userId) return;
    const sockets = this.#userSockets.get(socket.userId);
    sockets?.delete(socket);
    if (sockets?.size === 0) this.#userSockets.delete(socket.userId);
  }

  /** Checks the token, the session, the document name, the right to open it and the limits. */
  async authenticate(token: string, documentName: string, socket: SocketRecord): Promise<ConnectionContext> {
    const doc = parseDocName(documentName);
    if (!doc) throw new Refused('invalidInput', 'ruleBroken', 'not a valid document name');
    let sender: Sender;
    try {
      sender = await this.#signer.verify(token);
    } catch (error) {
      if (error instanceof OutpostError) throw new Refused(error.kind, error.kind === 'unauthorized' ? 'signedOut' : 'ruleBroken', error.message);
      throw error;
    }
    if (!(await this.sessionActive(sender.deviceId))) throw denied('unauthorized', 'this session was signed out; sign in again');
    await this.#checkDocument(sender.userId, doc);
    return { ...sender, doc, socket, connectionKey: this.#admit(socket, sender, documentName) };
  }

  async #checkDocument(userId: UserId, doc: DocName): Promise<void> {
    switch (doc.kind) {
      case 'segment':
      case 'server':
        if (!(await this.roleOf(doc.conversationId, userId))) throw denied('forbidden', 'not a member of this conversation');
        return;
      case 'user':
      case 'inbox':
      case 'presence':
        if (doc.userId !== userId) throw denied('forbidden', 'this document belongs to another user');
        return;
      default:
        unreachable(doc);
    }
  }

  #admit(socket: SocketRecord, { userId, deviceId }: Sender, documentName: string): number {
    if (socket.closed) throw new Refused('unauthorized', 'retry', 'the connection closed', 0);
    if (socket.userId !== null && socket.userId !== userId) throw denied('forbidden', 'one connection serves one user');
    socket.deviceId ??= deviceId;
    if (socket.userId === null) {
      const sockets = this.#userSockets.get(userId) ?? new Set<SocketRecord>();
      if (sockets.size >= ConnectionLimits.socketsPerUser) {
        throw new Refused('rateLimited', 'retry', `at most ${ConnectionLimits.socketsPerUser} connections per user; close some tabs or devices`, 10_000);
      }
      socket.userId = userId;
      sockets.add(socket);
      this.#userSockets.set(userId, sockets);
    }
    if (socket.connections.size >= ConnectionLimits.documentsPerSocket) {
      throw new Refused('tooLarge', 'retry', `at most ${ConnectionLimits.documentsPerSocket} documents per connection`, 10_000);
    }
    let same = 0;
    for (const name of socket.connections.values()) if (name === documentName) same += 1;
    if (same >= ConnectionLimits.connectionsPerDocument) {
      throw new Refused('tooLarge', 'retry', `a document is open at most ${ConnectionLimits.connectionsPerDocument} times per connection`, 10_000);
    }
    const key = ++socket.lastKey;
    socket.connections.set(key, documentName);
    return key;
  }

  /** A document connection closed. */
  released(context: ConnectionContext): void {
    context.socket.connections.delete(context.connectionKey);
  }

  /**
   * The member's role, or null when not a member; trusted for RECHECK_MS. `inUse` (the write
   * path, opening a document) keeps it refreshed by refreshRolesInUse; the connection sweep's
   * own checks pass false, or every open connection's role would be asked for every 1.5 s.
   */
  async roleOf(conversationId: ConversationId, userId: UserId, now = Date.now(), inUse = true): Promise<Role | null> {
    const key = `${conversationId}/${userId}`;
    const cached = this.#roles.get(key);
    if (cached && now - cached.at < RECHECK_MS) {
      if (inUse) cached.usedAt = now;
      return cached.role;
    }
    const role = await this.#storage.conversations.getMemberRole(conversationId, userId);
    this.#roles.set(key, { role, at: now, usedAt: inUse ? now : (cached?.usedAt ?? -Infinity), conversationId, userId });
    if (this.#roles.size > 100_000) this.#sweep(this.#roles, now);
    return role;
  }

  /** Roles held in the cache (for tests). */
  get rolesCached(): number {
    return this.#roles.size;
  }

  /**
   * Asks storage again, in one query, for every role in use (asked for by the write path or a
   * document opening in the last ROLE_IN_USE_MS); called every ROLES_REFRESH_MS. An answer
   * forgotten meanwhile (the membership changed) or asked for again since the query started is
   * left as it is. An answer neither in use nor trusted any more is forgotten (the connection
   * sweep asks again for what it still needs), so the cache holds what is in use, not every role
   * ever asked for.
   */
  async refreshRolesInUse(now = Date.now()): Promise<void> {
    const asked = new Map<string, { conversationId: ConversationId; userId: UserId }>();
    for (const [key, entry] of this.#roles) {
      if (now - entry.usedAt < ROLE_IN_USE_MS) asked.set(key, { conversationId: entry.conversationId, userId: entry.userId });
      else if (now - entry.at >= RECHECK_MS) this.#roles.delete(key);
    }
    if (asked.size === 0) return;
    const found = new Map((await this.#storage.conversations.getMemberRoles([...asked.values()])).map((r) => [`${r.conversationId}/${r.userId}`, r.role]));
    for (const key of asked.keys()) {
      const entry = this.#roles.get(key);
      if (entry && entry.at < now) Object.assign(entry, { role: found.get(key) ?? null, at: now });
    }
  }

  /** Whether the device's session is still signed in; trusted for RECHECK_MS. */
  async sessionActive(deviceId: DeviceId, now = Date.now()): Promise<boolean> {
    const cached = this.#sessions.get(deviceId);
    if (cached && now - cached.at < RECHECK_MS) return cached.active;
    const active = await this.#storage.accounts.isSessionActive(deviceId, now);
    this.#sessions.set(deviceId, { active, at: now });
    if (this.#sessions.size > 100_000) this.#sweep(this.#sessions, now);
    return active;
  }

  /**
   * Asks storage once about every session in `deviceIds` whose answer is no longer trusted, so
   * a sweep over thousands of connections costs one query, not one per device.
   */
  async refreshSessions(deviceIds: Iterable<DeviceId>, now = Date.now()): Promise<void> {
    const stale = [...new Set(deviceIds)].filter((deviceId) => {
      const cached = this.#sessions.get(deviceId);
      return !cached || now - cached.at >= RECHECK_MS;
    });
    if (stale.length === 0) return;
    const active = await this.#storage.accounts.activeSessions(stale, now);
    for (const deviceId of stale) this.#sessions.set(deviceId, { active: active.has(deviceId), at: now });
    if (this.#sessions.size > 100_000) this.#sweep(this.#sessions, now);
  }

  /** As refreshSessions, for the roles of (conversation, user) pairs. */
  async refreshRoles(pairs: Iterable<{ conversationId: ConversationId; userId: UserId }>, now = Date.now()): Promise<void> {
    const stale = new Map<string, { conversationId: ConversationId; userId: UserId }>();
    for (const pair of pairs) {
      const key = `${pair.conversationId}/${pair.userId}`;
      const cached = this.#roles.get(key);
      if (!cached || now - cached.at >= RECHECK_MS) stale.set(key, pair);
    }
    if (stale.size === 0) return;
    const found = new Map((await this.#storage.conversations.getMemberRoles([...stale.values()])).map((r) => [`${r.conversationId}/${r.userId}`, r.role]));
    for (const [key, { conversationId, userId }] of stale) {
      this.#roles.set(key, { role: found.get(key) ?? null, at: now, usedAt: this.#roles.get(key)?.usedAt ?? -Infinity, conversationId, userId });
    }
    if (this.#roles.size > 100_000) this.#sweep(this.#roles, now);
  }

  /** Who may post in the conversation (a locked group: its owner and admins only), cached like roles. */
  async postingOf(conversationId: ConversationId, now = Date.now()): Promise<Posting> {
    const cached = this.#posting.get(conversationId);
    if (cached && now - cached.at < RECHECK_MS) return cached.posting;
    const posting = await this.#storage.moderation.getPosting(conversationId);
    this.#posting.set(conversationId, { posting, at: now });
    if (this.#posting.size > 100_000) this.#sweep(this.#posting, now);
    return posting;
  }

  /** Membership (or who may post) of a conversation changed: ask storage again next time. */
  forgetConversation(conversationId: ConversationId): void {
    this.#posting.delete(conversationId);
    for (const key of [...this.#roles.keys()]) if (key.startsWith(`${conversationId}/`)) this.#roles.delete(key);
  }

  /** A session was revoked: refuse it at once. */
  revokeSession(deviceId: DeviceId): void {
    this.#sessions.set(deviceId, { active: false, at: Date.now() });
  }

  /** WebSockets open on this node that have signed in. */
  get openSockets(): number {
    let n = 0;
    for (const sockets of this.#userSockets.values()) n += sockets.size;
    return n;
  }

  /** The open WebSockets of a device (few: one per tab leader, on this node). */
  socketsOf(deviceId: DeviceId): SocketRecord[] {
    const found: SocketRecord[] = [];
    for (const sockets of this.#userSockets.values()) for (const socket of sockets) if (socket.deviceId === deviceId && !socket.closed) found.push(socket);
    return found;
  }

  /** Caches keyed by user or session stay bounded: stale answers go. */
  #sweep(cache: Map<string, { at: number }>, now: number): void {
    for (const [key, entry] of cache) if (now - entry.at >= RECHECK_MS) cache.delete(key);
  }
}
