// Reads the Hocuspocus frame header (document, message type, sync step) so the write path can
// find the Yjs update inside a frame before Hocuspocus applies it.
import * as decoding from 'lib0/decoding';
import { OutpostError } from '@outpost/shared-schema';

/** Hocuspocus message types (see @hocuspocus/server MessageType); only the ones we inspect. */
export const FrameTypes = { sync: 0, awareness: 1, auth: 2, syncReply: 4 } as const;
/** y-protocols sync steps. */
export const SyncSteps = { step1: 0, step2: 1, update: 2 } as const;

export type Frame =
  | { kind: 'update'; documentName: string; update: Uint8Array }
  | { kind: 'other'; documentName: string; type: number };

/** Decodes a frame far enough to extract a document update; throws `invalidInput` on garbage. */
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
        return { kind: 'update', documentName, update: decoding.readVarUint8Array(decoder) };
      }
    }
    return { kind: 'other', documentName, type };
  } catch (error) {
    throw new OutpostError('invalidInput', `malformed frame (${(error as Error).message})`);
  }
}
