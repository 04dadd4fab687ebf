// Who may open which document, and whether they still may: tokens, membership, sessions and
// connection limits. Answers are cached for a few seconds, which bounds how long a removed
// member or a revoked session can last on a node that was not told (the sweep rechecks).
import {
  OutpostError,
  closeReason,
  parseDocName,
  unreachable,
  type ConversationId,
  type DeviceId,
  type DocName,
  type Role,
  type UserId,
} from '@outpost/shared-schema';
import type { Storage } from '@outpost/storage';
import type { TokenSigner } from '../auth/tokens.ts';
import { ConnectionLimits } from '../rateLimiter.ts';
import type { Sender } from './validate.ts';

/** How long a membership or session answer is trusted before it is asked again. */
export const RECHECK_MS = 4_000;

/** What a connection carries after authentication. */
export interface ConnectionContext extends Sender {
  doc: DocName;
  socketId: string;
}

/** An error whose `reason` Hocuspocus sends to the client as the permission-denied reason. */
function denied(kind: OutpostError['kind'], message: string, cause?: unknown): Error & { reason: string } {
  const reason = closeReason(kind, message);
  return Object.assign(new Error(reason, cause ? { cause } : undefined), { reason });
}

export class AccessControl {
  readonly #storage: Storage;
  readonly #signer: TokenSigner;
  readonly #roles = new Map<string, { role: Role | null; at: number }>();
  readonly #sessions = new Map<DeviceId, { active: boolean; at: number }>();
  /** socket id → user and the documents it has open; user → sockets. */
  readonly #sockets = new Map<string, { userId: UserId; documents: Set<string> }>();
  readonly #userSockets = new Map<UserId, Set<string>>();

  constructor(storage: Storage, signer: TokenSigner) {
    this.#storage = storage;
    this.#signer = signer;
  }

  /** Checks the token, the session, the document name, the right to open it and the limits. */
  async authenticate(token: string, documentName: string, socketId: string): Promise<ConnectionContext> {
    const doc = parseDocName(documentName);
    if (!doc) throw denied('invalidInput', 'not a valid document name');
    let sender: Sender;
    try {
      sender = await this.#signer.verify(token);
    } catch (error) {
      if (error instanceof OutpostError) throw denied(error.kind, error.message, error);
      throw error;
    }
    if (!(await this.sessionActive(sender.deviceId))) throw denied('unauthorized', 'this session was signed out; sign in again');
    await this.#checkDocument(sender.userId, doc);
    this.#admit(socketId, sender.userId, documentName);
    return { ...sender, doc, socketId };
  }

  async #checkDocument(userId: UserId, doc: DocName): Promise<void> {
    switch (doc.kind) {
      case 'segment':
      case 'order':
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

  #admit(socketId: string, userId: UserId, documentName: string): void {
    let socket = this.#sockets.get(socketId);
    if (!socket) {
      const sockets = this.#userSockets.get(userId) ?? new Set<string>();
      if (sockets.size >= ConnectionLimits.socketsPerUser) {
        throw denied('rateLimited', `at most ${ConnectionLimits.socketsPerUser} connections per user; close some tabs or devices`);
      }
      sockets.add(socketId);
      this.#userSockets.set(userId, sockets);
      socket = { userId, documents: new Set() };
      this.#sockets.set(socketId, socket);
    }
    if (socket.documents.size >= ConnectionLimits.documentsPerSocket && !socket.documents.has(documentName)) {
      throw denied('tooLarge', `at most ${ConnectionLimits.documentsPerSocket} documents per connection`);
    }
    socket.documents.add(documentName);
  }

  /** A document connection closed; the socket is forgotten with its last document. */
  released(socketId: string, documentName: string): void {
    const socket = this.#sockets.get(socketId);
    if (!socket) return;
    socket.documents.delete(documentName);
    if (socket.documents.size > 0) return;
    this.#sockets.delete(socketId);
    const sockets = this.#userSockets.get(socket.userId);
    sockets?.delete(socketId);
    if (sockets?.size === 0) this.#userSockets.delete(socket.userId);
  }

  /** The member's role, or null when not a member; trusted for RECHECK_MS. */
  async roleOf(conversationId: ConversationId, userId: UserId, now = Date.now()): Promise<Role | null> {
    const key = `${conversationId}/${userId}`;
    const cached = this.#roles.get(key);
    if (cached && now - cached.at < RECHECK_MS) return cached.role;
    const role = await this.#storage.getMemberRole(conversationId, userId);
    this.#roles.set(key, { role, at: now });
    return role;
  }

  /** Whether the device's session is still signed in; trusted for RECHECK_MS. */
  async sessionActive(deviceId: DeviceId, now = Date.now()): Promise<boolean> {
    const cached = this.#sessions.get(deviceId);
    if (cached && now - cached.at < RECHECK_MS) return cached.active;
    const active = await this.#storage.isSessionActive(deviceId, now);
    this.#sessions.set(deviceId, { active, at: now });
    return active;
  }

  /** Membership of a conversation changed here: ask storage again next time. */
  forgetConversation(conversationId: ConversationId): void {
    for (const key of [...this.#roles.keys()]) if (key.startsWith(`${conversationId}/`)) this.#roles.delete(key);
  }

  /** A session was revoked here: refuse it at once. */
  revokeSession(deviceId: DeviceId): void {
    this.#sessions.set(deviceId, { active: false, at: Date.now() });
  }
}
