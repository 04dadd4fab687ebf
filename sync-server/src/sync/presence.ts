// Typing and online presence travel on one `presence:<userId>` document per client, not one per
// conversation. Each client writes awareness to its own presence document; this relay copies it
// into the open presence documents of the people who share a conversation with that user,
// hiding which conversation someone types in from those who are not in it.
//
// Relayed states get ids and clocks of the relay's own (above any id a client picks), so a
// contact can never write into someone else's slot, whatever ids and clocks it sends.
import type { Document, onAwarenessUpdatePayload } from '@hocuspocus/server';
import * as encoding from 'lib0/encoding';
import { applyAwarenessUpdate } from 'y-protocols/awareness';
import { SERVER_CLIENT_BASE, parseDocName, presenceDoc, type ConversationId, type UserId } from '@outpost/shared-schema';
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
 * Renewals (states sent again unchanged) wait for their contact's next delivery, at most a random
 * delay of up to this long: clients that connected together renew together, every 15 s, and
 * relaying a thousand renewals at once held messages for tens of milliseconds. Each contact gets
 * its renewals in one update, at its own moment. A contact's copy of a state times out 30 s after
 * the last renewal it received, so 5 s more is safe; a changed state (typing, going away) is
 * relayed at once (within DELIVERY_BATCH_MS), and takes the contact's waiting renewals along.
 */
const RENEWAL_SPREAD_MS = 5_000;
/**
 * Deliveries to a contact's presence document wait this long and go as one awareness update:
 * clients that connected together renew their states together every 15 s, and one update per
 * (user, contact) was a frame each — ten thousand frames within a few hundred milliseconds for a
 * thousand users in groups of ten, during which messages waited.
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
  readonly #slots = new Map<string, { id: number; clock: number; state: string | null }>();
  readonly #renewalSpreadMs: number;
  #nextSlot = SERVER_CLIENT_BASE;
  /** Tells the other nodes (their relays deliver to the contacts they hold). */
  readonly #announce: (notice: PresenceNotice) => void;
  /** Entries waiting for the next batch, per contact, by the relay's id (a later clock replaces an earlier one). */
  #pending = new Map<UserId, Map<number, RelayedEntry>>();
  /** The next batch's delivery, while entries wait for it. */
  #batch: Promise<void> | null = null;
  /** Renewals waiting, per contact, with the timer that delivers them (see RENEWAL_SPREAD_MS). */
  readonly #renewals = new Map<UserId, { entries: Map<number, RelayedEntry>; timer: ReturnType<typeof setTimeout> }>();

  constructor(storage: Storage, documents: () => Map<string, Document>, announce: (notice: PresenceNotice) => void = () => {}, renewalSpreadMs = RENEWAL_SPREAD_MS) {
    this.#storage = storage;
    this.#documents = documents;
    this.#announce = announce;
    this.#renewalSpreadMs = renewalSpreadMs;
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
   * The relay's id and next clock for a source state, and whether the state is the one last
   * relayed for it (a renewal); the slot goes with its state.
   */
  #slot(userId: UserId, clientId: number, state: PresenceState | null): { id: number; clock: number; renewal: boolean } {
    const key = `${userId}/${clientId}`;
    let slot = this.#slots.get(key);
    if (!slot) this.#slots.set(key, (slot = { id: this.#nextSlot++, clock: 0, state: null }));
    slot.clock += 1;
    const json = state === null ? null : JSON.stringify(state);
    const renewal = json !== null && json === slot.state;
    slot.state = json;
    if (state === null) this.#slots.delete(key);
    return { id: slot.id, clock: slot.clock, renewal };
  }

  /** Relays a change of a user's own presence states to their contacts' open presence documents. */
  async onAwarenessUpdate({ documentName, document, added, updated, removed, transactionOrigin }: onAwarenessUpdatePayload): Promise<void> {
    if (transactionOrigin === RELAY_ORIGIN) return;
    const name = parseDocName(documentName);
    if (name?.kind !== 'presence') return;
    const gone = new Set(removed);
    const changes = [...added, ...updated, ...removed].map((clientId) => ({
      clientId,
      state: gone.has(clientId) ? null : ((document.awareness.getStates().get(clientId) as PresenceState | undefined) ?? null),
    }));
    this.#announce({ from: name.userId, entries: changes });
    await this.#relayChanges(name.userId, changes);
  }

  /** A user's presence changed on another node. */
  async relayRemote(notice: PresenceNotice): Promise<void> {
    const entries = notice.entries.map(({ clientId, state }) => ({ clientId, state: state === null ? null : { typing: state.typing ?? null, user: { id: notice.from } } }));
    await this.#relayChanges(notice.from, entries as { clientId: number; state: PresenceState | null }[]);
  }

  async #relayChanges(from: UserId, changes: { clientId: number; state: PresenceState | null }[]): Promise<void> {
    let renewals = true;
    const entries = changes.map(({ clientId, state }) => {
      const slot = this.#slot(from, clientId, state);
      renewals &&= slot.renewal;
      return { clientId: slot.id, clock: slot.clock, state };
    });
    await this.#relay(from, entries, renewals);
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
          const slot = this.#slot(contact, clientId, state as PresenceState);
          return { clientId: slot.id, clock: slot.clock, state: state as PresenceState };
        });
      this.#deliver(userId, entries, shared, false);
    }
    await this.#batch;
  }

  /** Delivers to `from`'s contacts: renewals each at their contact's own moment, anything else with the next batch (awaited). */
  async #relay(from: UserId, entries: RelayedEntry[], renewals: boolean): Promise<void> {
    for (const [to, shared] of await this.#audience(from)) this.#deliver(to, entries, shared, renewals);
    if (!renewals) await this.#batch;
  }

  /** Queues `entries` for `to`'s presence document, typing hidden where they do not share it. */
  #deliver(to: UserId, entries: RelayedEntry[], shared: readonly ConversationId[], renewals: boolean): void {
    if (entries.length === 0 || !this.#documents().has(presenceDoc(to))) return;
    const visible = entries.map((e) => (e.state && e.state.typing && !shared.includes(e.state.typing) ? { ...e, state: { ...e.state, typing: null } } : e));
    const waiting = this.#renewals.get(to);
    const batched = this.#pending.get(to);
    if (renewals && batched) {
      // A delivery to this contact is due anyway: the renewals go with it.
      for (const e of visible) batched.set(e.clientId, e);
      return;
    }
    if (renewals) {
      if (waiting) for (const e of visible) waiting.entries.set(e.clientId, e);
      else {
        const timer = setTimeout(() => this.#deliverRenewals(to), Math.random() * this.#renewalSpreadMs);
        timer.unref(); // a renewal keeps no process alive
        this.#renewals.set(to, { entries: new Map(visible.map((e) => [e.clientId, e])), timer });
      }
      return;
    }
    let queued = batched;
    if (!queued) this.#pending.set(to, (queued = new Map()));
    // The contact's waiting renewals go along: older clocks first, so a change overwrites them.
    if (waiting) {
      clearTimeout(waiting.timer);
      this.#renewals.delete(to);
      for (const [id, e] of waiting.entries) queued.set(id, e);
    }
    for (const e of visible) queued.set(e.clientId, e);
    this.#batch ??= new Promise<void>((resolve) => setTimeout(resolve, DELIVERY_BATCH_MS)).then(() => this.#flush());
  }

  /** A contact's renewals, once their moment came without a change to take them along. */
  #deliverRenewals(to: UserId): void {
    const waiting = this.#renewals.get(to);
    this.#renewals.delete(to);
    if (waiting) this.#apply(to, waiting.entries);
  }

  /** Applies what waited for the batch: one awareness update per contact. */
  #flush(): void {
    const pending = this.#pending;
    this.#pending = new Map();
    this.#batch = null;
    for (const [to, entries] of pending) this.#apply(to, entries);
  }

  /** `entries` as one awareness update to `to`'s presence document, if it is still open. */
  #apply(to: UserId, entries: Map<number, RelayedEntry>): void {
    const target = this.#documents().get(presenceDoc(to));
    if (target) applyAwarenessUpdate(target.awareness, encodeAwareness([...entries.values()]), RELAY_ORIGIN);
  }
}

/** A state as relayed: under the relay's own id and clock (see #slot). */
interface RelayedEntry {
  clientId: number;
  clock: number;
  state: PresenceState | null;
}
