// Typing and online presence travel on one `presence:<userId>` document per client, not one per
// conversation. Each client writes awareness to its own presence document; this relay copies it
// into the open presence documents of the people who share a conversation with that user,
// hiding which conversation someone types in from those who are not in it.
//
// Relayed states get ids and clocks of the relay's own (above any id a client picks), so a
// contact can never write into someone else's slot, whatever ids and clocks it sends.
//
// Only changes travel to contacts. Every client renews its own state every 15 s (y-protocols'
// outdatedTimeout / 2), and relaying each renewal cost every user a frame every few seconds with
// all their contacts' states in it (in a 300-member group, ~90 KB a minute while nobody did
// anything). A renewal keeps the contacts' copies on this node from timing out instead (see
// #keepCopies), and a client keeps the states of its presence document while it is connected to the
// node, which removes a state when its user goes (client/src/presence/Presence.ts).
import type { Document, onAwarenessUpdatePayload } from '@hocuspocus/server';
import * as encoding from 'lib0/encoding';
import * as time from 'lib0/time';
import { applyAwarenessUpdate } from 'y-protocols/awareness';
import { SERVER_CLIENT_BASE, isServerClientId, parseDocName, presenceDoc, type ConversationId, type UserId } from '@outpost/shared-schema';
import type { Storage } from '@outpost/storage';
import type { PresenceNotice } from '../coordination/Coordinator.ts';

/** Origin of relayed states, so relaying them does not relay again. */
const RELAY_ORIGIN = { source: 'local', relay: 'presence' } as const;
/**
 * How long a user's audience is trusted: 60 to 90 s, at random. Longer than a client's awareness
 * renewal (every 15 s, y-protocols' outdatedTimeout / 2), so renewals find it cached (with 10 s, a
 * thousand clients that connected together, after a restart, each had their audience read again
 * in the same burst), and spread, so audiences read together are not read again together. A
 * membership change clears every audience at once, on every node (membershipChanged); this
 * bounds how long a notice lost with Redis shows presence to someone no longer a contact.
 */
const AUDIENCE_TTL_MS = 60_000;
/**
 * Deliveries to a contact's presence document wait this long and go as one awareness update:
 * clients that connected together (after a restart) send their states together, and one update
 * per (user, contact) was a frame each — ten thousand frames within a few hundred milliseconds
 * for a thousand users in groups of ten, during which messages waited.
 */
const DELIVERY_BATCH_MS = 25;
/** Audiences kept at most (a user's contacts); beyond it the oldest go. */
const AUDIENCES_KEPT = 10_000;

/** Contacts of a user → the conversations they share with them. */
type Audience = Map<UserId, ConversationId[]>;

interface PresenceState {
  user?: { id: UserId };
  typing?: ConversationId | null;
  [key: string]: unknown;
}

/** Encodes awareness entries in the y-protocols wire format (varUint count, then per client id, clock, JSON). */
function encodeAwareness(entries: { clientId: number; clock: number; state: PresenceState | null }[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const { clientId, clock, state } of entries) {
    encoding.writeVarUint(encoder, clientId);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarString(encoder, JSON.stringify(state));
  }
  return encoding.toUint8Array(encoder);
}

export class PresenceRelay {
  readonly #storage: Storage;
  readonly #documents: () => Map<string, Document>;
  /**
   * Per user: who shares a conversation with them, and in which conversations (an array: two
   * people share a handful at most, and a Set per contact cost ~150 bytes for every contact of
   * every connected user). In the order they were asked, so expired ones leave from the front
   * (expiries differ by up to half the TTL: an expired one may wait behind a live one).
   */
  readonly #audiences = new Map<UserId, { expires: number; conversations: Audience }>();
  /** A source (user, their awareness client id) → the relay's own id and clock for it, and the state last relayed (JSON). */
  readonly #slots = new Map<string, Slot>();
  #nextSlot = SERVER_CLIENT_BASE;
  /** Tells the other nodes (their relays deliver to the contacts they hold). */
  readonly #announce: (notice: PresenceNotice) => void;
  /** Entries waiting for the next batch, per contact, by the relay's id (a later clock replaces an earlier one). */
  #pending = new Map<UserId, Map<number, RelayedEntry>>();
  /** The next batch's delivery, while entries wait for it. */
  #batch: Promise<void> | null = null;

  constructor(storage: Storage, documents: () => Map<string, Document>, announce: (notice: PresenceNotice) => void = () => {}) {
    this.#storage = storage;
    this.#documents = documents;
    this.#announce = announce;
  }

  /** Forget cached audiences (members changed). */
  forget(): void {
    this.#audiences.clear();
  }

  async #audience(userId: UserId): Promise<Audience> {
    const cached = this.#audiences.get(userId);
    if (cached && Date.now() < cached.expires) return cached.conversations;
    // One query, not one per conversation: in a 300-member group that was 300 rows read again
    // for each of its members' audiences.
    const shared: Audience = new Map();
    for (const { userId: contact, conversationId } of await this.#storage.conversations.listContacts(userId)) {
      const ids = shared.get(contact);
      if (!ids) shared.set(contact, [conversationId]);
      else if (!ids.includes(conversationId)) ids.push(conversationId);
    }
    const now = Date.now();
    this.#audiences.delete(userId);
    for (const [key, entry] of this.#audiences) {
      if (now < entry.expires && this.#audiences.size < AUDIENCES_KEPT) break;
      this.#audiences.delete(key);
    }
    this.#audiences.set(userId, { expires: now + AUDIENCE_TTL_MS * (1 + Math.random() / 2), conversations: shared });
    return shared;
  }

  /**
   * The relay's slot (id, clock) for a source state, and whether the state is the one last
   * relayed for it (a renewal: its clock stays, as nothing is sent); a change takes the next
   * clock, and the slot goes with its state.
   */
  #slot(userId: UserId, clientId: number, state: PresenceState | null): { slot: Slot; renewal: boolean } {
    const key = `${userId}/${clientId}`;
    let slot = this.#slots.get(key);
    if (!slot) this.#slots.set(key, (slot = { id: this.#nextSlot++, clock: 0, state: null }));
    const json = state === null ? null : JSON.stringify(state);
    const renewal = json !== null && json === slot.state;
    if (!renewal) slot.clock += 1;
    slot.state = json;
    if (state === null) this.#slots.delete(key);
    return { slot, renewal };
  }

  /** Relays a change of a user's own presence states to their contacts' open presence documents. */
  async onAwarenessUpdate({ documentName, document, added, updated, removed, transactionOrigin }: onAwarenessUpdatePayload): Promise<void> {
    if (transactionOrigin === RELAY_ORIGIN) return;
    const name = parseDocName(documentName);
    if (name?.kind !== 'presence') return;
    const gone = new Set(removed);
    // The user's own clients' states; not the copies relayed to them (timed out when their source's node went).
    const changes = [...added, ...updated, ...removed].filter((clientId) => !isServerClientId(clientId)).map((clientId) => ({
      clientId,
      state: gone.has(clientId) ? null : ((document.awareness.getStates().get(clientId) as PresenceState | undefined) ?? null),
    }));
    if (changes.length === 0) return;
    this.#announce({ from: name.userId, entries: changes });
    await this.#relayChanges(name.userId, changes);
  }

  /** A user's presence changed on another node. */
  async relayRemote(notice: PresenceNotice): Promise<void> {
    const entries = notice.entries.map(({ clientId, state }) => ({ clientId, state: state === null ? null : { typing: state.typing ?? null, user: { id: notice.from } } }));
    await this.#relayChanges(notice.from, entries as { clientId: number; state: PresenceState | null }[]);
  }

  async #relayChanges(from: UserId, changes: { clientId: number; state: PresenceState | null }[]): Promise<void> {
    const sourced = changes.map(({ clientId, state }) => ({ state, ...this.#slot(from, clientId, state) }));
    const audience = await this.#audience(from);
    const entries: RelayedEntry[] = [];
    for (const { slot, renewal, state } of sourced) {
      if (renewal) {
        const lost = this.#keepCopies(audience, slot);
        if (lost === null) continue;
        // A copy is missing: the state goes again, as a change, under a clock above any held.
        slot.clock = Math.max(slot.clock, lost) + 1;
      }
      entries.push({ clientId: slot.id, clock: slot.clock, state });
    }
    if (entries.length === 0) return;
    for (const [to, shared] of audience) this.#deliver(to, entries, shared);
    await this.#batch;
  }

  /**
   * Marks the open contacts' copies of a renewed state as just updated, as relaying the renewal
   * would, without sending anything: the node keeps them while their source renews, and removes
   * them 30 s after it stops (documentStore's sweep, y-protocols' timeout). Returns null when every
   * copy was there, or else the highest clock a contact holds for the slot: none (0) where the
   * contact's document was opened again, the copy's own where it timed out while the renewals did
   * not reach this node (the same state at that clock would be ignored).
   */
  #keepCopies(audience: Audience, slot: Slot): number | null {
    const documents = this.#documents();
    // y-protocols' own clock (Date.now as it was when lib0 loaded).
    const now = time.getUnixTime();
    let lost: number | null = null;
    for (const to of audience.keys()) {
      const awareness = documents.get(presenceDoc(to))?.awareness;
      if (!awareness) continue;
      const held = awareness.meta.get(slot.id);
      if (held && held.clock === slot.clock && awareness.states.has(slot.id)) held.lastUpdated = now;
      else lost = Math.max(lost ?? 0, held?.clock ?? 0);
    }
    return lost;
  }

  /**
   * A contact opened their presence document: show them who of their contacts is online. What a
   * contact shares with them is what they share with the contact, so only their own audience is
   * asked for (asking each online contact's cost a query per contact, and kept every contact's
   * audience in memory).
   */
  async onPresenceOpened(userId: UserId): Promise<void> {
    const documents = this.#documents();
    for (const [contact, shared] of await this.#audience(userId)) {
      const source = documents.get(presenceDoc(contact));
      if (!source) continue;
      const entries = [...source.awareness.getStates()]
        .filter(([, state]) => (state as PresenceState).user?.id === contact)
        .map(([clientId, state]) => {
          const { slot } = this.#slot(contact, clientId, state as PresenceState);
          return { clientId: slot.id, clock: slot.clock, state: state as PresenceState };
        });
      this.#deliver(userId, entries, shared);
    }
    await this.#batch;
  }

  /** Queues `entries` for `to`'s presence document with the next batch, typing hidden where they do not share it. */
  #deliver(to: UserId, entries: RelayedEntry[], shared: readonly ConversationId[]): void {
    if (entries.length === 0 || !this.#documents().has(presenceDoc(to))) return;
    let queued = this.#pending.get(to);
    if (!queued) this.#pending.set(to, (queued = new Map()));
    for (const e of entries) queued.set(e.clientId, e.state && e.state.typing && !shared.includes(e.state.typing) ? { ...e, state: { ...e.state, typing: null } } : e);
    this.#batch ??= new Promise<void>((resolve) => setTimeout(resolve, DELIVERY_BATCH_MS)).then(() => this.#flush());
  }

  /** Applies what waited: one awareness update per contact whose presence document is still open. */
  #flush(): void {
    const pending = this.#pending;
    this.#pending = new Map();
    this.#batch = null;
    for (const [to, entries] of pending) {
      const target = this.#documents().get(presenceDoc(to));
      if (target) applyAwarenessUpdate(target.awareness, encodeAwareness([...entries.values()]), RELAY_ORIGIN);
    }
  }
}

/** The relay's own id and clock for a source state, and the state last relayed under it (JSON). */
interface Slot {
  id: number;
  clock: number;
  state: string | null;
}

/** A state as relayed: under the relay's own id and clock (see #slot). */
interface RelayedEntry {
  clientId: number;
  clock: number;
  state: PresenceState | null;
}
