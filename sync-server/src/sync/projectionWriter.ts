// Keeps the message read model in line with the documents: after an edit, a deletion or a
// reaction change is applied, the message's state is read from the document (the winner Yjs
// picked, never "the last to arrive") and written in the next batch, coalesced per message.
import type * as Y from 'yjs';
import { segmentMaps, type ConversationId, type MessageId } from '@outpost/shared-schema';
import type { MessageState, Projection } from '@outpost/storage';
import type { Logger } from '../log.ts';

const FLUSH_AFTER_MS = 50;

export class ProjectionWriter {
  readonly #projection: Projection;
  readonly #log: Logger;
  readonly #pending = new Map<string, MessageState>();
  #timer: NodeJS.Timeout | null = null;
  #writing: Promise<void> = Promise.resolve();

  constructor(projection: Projection, log: Logger) {
    this.#projection = projection;
    this.#log = log;
  }

  /** Records the current state of `ids` in `doc` for the next flush. */
  touched(conversationId: ConversationId, doc: Y.Doc, ids: Iterable<MessageId>): void {
    const maps = segmentMaps(doc);
    for (const id of ids) {
      if (!maps.messages.has(id)) continue;
      const edit = maps.edits.get(id);
      const deletion = maps.deletions.get(id);
      this.#pending.set(`${conversationId}/${id}`, {
        conversationId,
        id,
        edit: edit ? { body: edit.body, editedAt: edit.editedAt } : null,
        deletedAt: deletion ? deletion.at : null,
      });
    }
    if (this.#pending.size > 0) this.#timer ??= setTimeout(() => void this.flush(), FLUSH_AFTER_MS);
  }

  /** Writes what is pending (one transaction); resolves when written. */
  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const states = [...this.#pending.values()];
    this.#pending.clear();
    this.#writing = this.#writing.then(async () => {
      if (states.length === 0) return;
      try {
        await this.#projection.applyMessageStates(states);
      } catch (error) {
        // The documents keep the truth; the read model is rebuilt from them when needed.
        this.#log.error('could not update the message read model', { count: states.length, error });
      }
    });
    await this.#writing;
  }
}
