// Typing and online status: awareness on the client's single presence document. The server
// stamps identities and relays contacts' states into it (sync-server/src/sync/presence.ts).
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { presenceDoc, type ConversationId, type UserId } from '@outpost/shared-schema';
import type { SyncConnection } from '../connection/SyncConnection.ts';
import { Derived, type Live } from '../live.ts';

interface PresenceState {
  user?: { id: UserId };
  typing?: ConversationId | null;
}

export class Presence {
  readonly #me: UserId;
  readonly #awareness: Awareness;
  readonly #typing = new Map<ConversationId, Derived<UserId[]>>();
  readonly #online: Derived<UserId[]>;

  constructor(me: UserId, connection: SyncConnection) {
    this.#me = me;
    // Presence is awareness only: nothing to keep, so it bypasses the replica.
    this.#awareness = new Awareness(new Y.Doc());
    this.#awareness.setLocalState({ typing: null });
    connection.attach(presenceDoc(me), this.#awareness.doc, { awareness: this.#awareness });
    this.#online = new Derived(() => {
      const users = new Set<UserId>();
      for (const state of this.#states().values()) if (state.user && state.user.id !== me) users.add(state.user.id);
      return [...users];
    });
    this.#awareness.on('change', () => {
      for (const live of this.#typing.values()) live.invalidate();
      this.#online.invalidate();
    });
    // The node sends a contact's state when it changes, not each time it is renewed (every 15 s),
    // and removes it when its user goes (sync-server/src/sync/presence.ts); when the socket
    // closes, the provider removes them all. So a state received stands until one of those:
    // y-protocols would drop it 30 s after its last update.
    this.#awareness.on('update', () => {
      for (const [clientId, meta] of this.#awareness.meta) if (clientId !== this.#awareness.clientID) meta.lastUpdated = Infinity;
    });
  }

  /** Stops presence: this client's state is removed (the node tells contacts if still connected). */
  close(): void {
    this.#awareness.destroy();
  }

  #states(): Map<number, PresenceState> {
    return this.#awareness.getStates() as Map<number, PresenceState>;
  }

  /** Says where this user types now (null: nowhere). Unchanged, it sends nothing. */
  setTyping(conversationId: ConversationId | null): void {
    if ((this.#awareness.getLocalState() as PresenceState | null)?.typing === conversationId) return;
    this.#awareness.setLocalStateField('typing', conversationId);
  }

  /** Users typing in a conversation now (never yourself). */
  typingIn(conversationId: ConversationId): Live<UserId[]> {
    let live = this.#typing.get(conversationId);
    if (!live) {
      live = new Derived(() => {
        const users = new Set<UserId>();
        for (const [clientId, state] of this.#states()) {
          if (clientId === this.#awareness.clientID) continue;
          if (state.typing === conversationId && state.user && state.user.id !== this.#me) users.add(state.user.id);
        }
        return [...users];
      });
      this.#typing.set(conversationId, live);
    }
    return live;
  }

  /** Users who share a conversation with you and are connected now. */
  online(): Live<UserId[]> {
    return this.#online;
  }
}
