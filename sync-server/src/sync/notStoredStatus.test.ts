// The "not stored" statuses Hocuspocus sends to read-only connections are recognised exactly:
// built as Hocuspocus builds them, for plain and session addresses; nothing else is.
import { describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import { FrameTypes, syncStatusFrame } from './frames.ts';
import { isNotStoredStatus } from './notStoredStatus.ts';

/** A sync status as Hocuspocus's OutgoingMessage.writeSyncStatus writes it. */
function status(address: string, stored: boolean): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, address);
  encoding.writeVarUint(encoder, FrameTypes.syncStatus);
  encoding.writeVarUint(encoder, stored ? 1 : 0);
  return encoding.toUint8Array(encoder);
}

function frame(address: string, type: number, ...rest: number[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, address);
  encoding.writeVarUint(encoder, type);
  for (const byte of rest) encoding.writeUint8(encoder, byte);
  return encoding.toUint8Array(encoder);
}

describe('"not stored" statuses', () => {
  const addresses = ['conv:7b0c1f62-7f57-4d7c-9f3a-2f6f1d1f0a11:0', 'user:7b0c1f62-7f57-4d7c-9f3a-2f6f1d1f0a11\0k3j2h1g0f9', 'x'.repeat(200)];

  it.each(addresses)('are recognised for %s', (address) => {
    expect(isNotStoredStatus(status(address, false))).toBe(true);
  });

  it.each(addresses)('"stored" ones and other frames are not, for %s', (address) => {
    expect(isNotStoredStatus(status(address, true))).toBe(false);
    expect(isNotStoredStatus(syncStatusFrame(address))).toBe(false);
    // An update frame that happens to end in the same two bytes.
    expect(isNotStoredStatus(frame(address, FrameTypes.sync, 2, 3, FrameTypes.syncStatus, 0))).toBe(false);
    expect(isNotStoredStatus(frame(address, FrameTypes.awareness, 0))).toBe(false);
    expect(isNotStoredStatus(frame(address, FrameTypes.syncStatus, 0, 0))).toBe(false);
  });

  it('anything that is not bytes is not', () => {
    expect(isNotStoredStatus('not bytes')).toBe(false);
    expect(isNotStoredStatus(new Uint8Array([]))).toBe(false);
  });
});
