// The Hocuspocus frames the write path reads and writes itself: it finds the Yjs update inside a
// sync frame before Hocuspocus sees it, and acknowledges an update once it is stored.
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { Refused } from './refusals.ts';

/** Hocuspocus message types (see @hocuspocus/server MessageType); only the ones we use. */
export const FrameTypes = { sync: 0, awareness: 1, auth: 2, syncReply: 4, syncStatus: 8 } as const;
/** y-protocols sync steps. */
export const SyncSteps = { step1: 0, step2: 1, update: 2 } as const;

export type Frame =
  | { kind: 'update' | 'step2'; documentName: string; update: Uint8Array }
  /** A sync step 1: the client asks what it lacks (the copy must be caught up first). */
  | { kind: 'step1'; documentName: string }
  | { kind: 'other'; documentName: string; type: number };

/** Decodes a frame far enough to extract a document update; refuses garbage. */
export function decodeFrame(raw: Uint8Array): Frame {
  try {
    const decoder = decoding.createDecoder(raw);
    const address = decoding.readVarString(decoder);
    const sep = address.indexOf('\0');
    const documentName = sep === -1 ? address : address.slice(0, sep);
    const type = decoding.readVarUint(decoder);
    if (type === FrameTypes.sync || type === FrameTypes.syncReply) {
      const step = decoding.readVarUint(decoder);
      if (step === SyncSteps.step2 || step === SyncSteps.update) {
        return { kind: step === SyncSteps.update ? 'update' : 'step2', documentName, update: decoding.readVarUint8Array(decoder) };
      }
      if (step === SyncSteps.step1) return { kind: 'step1', documentName };
    }
    return { kind: 'other', documentName, type };
  } catch (error) {
    throw new Refused('invalidInput', 'ruleBroken', `malformed frame (${(error as Error).message})`);
  }
}

/** "Your update is stored": a provider counts these down to know nothing is unsynced. */
export function syncStatusFrame(address: string): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, address);
  encoding.writeVarUint(encoder, FrameTypes.syncStatus);
  encoding.writeVarUint(encoder, 1);
  return encoding.toUint8Array(encoder);
}
