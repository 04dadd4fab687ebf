// Generated histories (several devices writing messages, edits, deletions, reactions and text
// into one document, syncing now and then) and a peer that saw some prefix of them: the pieces
// and the step 2 after them give the peer exactly the document, each piece within its size.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { piecesOfSync, stepOneFrom, stepOneStateVector } from './syncInPieces.ts';
import { rngOf } from './testing/random.ts';

/** Devices writing at random into one document; returns the merged document and a snapshot of a peer part way. */
function history(seed: number): { doc: Y.Doc; peer: Y.Doc } {
  const rng = rngOf(seed);
  const devices = Array.from({ length: 1 + rng.int(4) }, () => new Y.Doc());
  const peer = new Y.Doc();
  const steps = 20 + rng.int(300);
  const peerAt = rng.int(steps);
  for (let step = 0; step < steps; step++) {
    const device = devices[rng.int(devices.length)] as Y.Doc;
    const messages = device.getMap<unknown>('messages');
    const keys = [...messages.keys()];
    const roll = rng.next();
    if (roll < 0.5 || keys.length === 0) messages.set(`m${seed}-${step}`, { body: 'x'.repeat(rng.int(2_000)), at: step, author: `u${rng.int(5)}` });
    else if (roll < 0.65) device.getMap('edits').set(keys[rng.int(keys.length)] as string, { body: `edited ${'y'.repeat(rng.int(500))}` });
    else if (roll < 0.75) messages.delete(keys[rng.int(keys.length)] as string);
    else if (roll < 0.85) device.getMap('reactions').set(`${keys[rng.int(keys.length)]}/👍/u${rng.int(5)}`, step);
    else {
      const text = device.getText('notes');
      if (text.length > 0 && rng.next() < 0.3) text.delete(rng.int(text.length), 1 + rng.int(Math.min(20, text.length)));
      else text.insert(rng.int(text.length + 1), 'z'.repeat(1 + rng.int(300)));
    }
    // Devices sync with each other now and then (their structs come to depend on each other's).
    if (rng.next() < 0.2) {
      const [a, b] = [devices[rng.int(devices.length)] as Y.Doc, devices[rng.int(devices.length)] as Y.Doc];
      Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
    }
    if (step === peerAt) for (const d of devices) Y.applyUpdate(peer, Y.encodeStateAsUpdate(d));
  }
  const doc = new Y.Doc();
  for (const d of devices) Y.applyUpdate(doc, Y.encodeStateAsUpdate(d));
  return { doc, peer };
}

/** What the document holds, with map keys sorted (their order is each copy's order of arrival). */
const content = (doc: Y.Doc) => {
  const sorted = (name: string) => Object.fromEntries(Object.entries(doc.getMap(name).toJSON()).sort(([a], [b]) => (a < b ? -1 : 1)));
  return JSON.stringify({ m: sorted('messages'), e: sorted('edits'), r: sorted('reactions'), t: doc.getText('notes').toString() });
};

describe('piecesOfSync', () => {
  it('pieces then the step 2 after them give the peer the document, each piece within its size (300 generated histories)', () => {
    let split = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const { doc, peer } = history(seed);
      const pieceBytes = 512 + rngOf(seed).int(8_000);
      const pieces = piecesOfSync(doc, Y.decodeStateVector(Y.encodeStateVector(peer)), pieceBytes);
      const whole = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(peer));
      if (pieces === null) {
        expect(whole.byteLength, `seed ${seed}`).toBeLessThan(pieceBytes + 64);
        continue;
      }
      split += 1;
      // The largest struct is what a piece may exceed its size by.
      const largest = Math.max(...[...doc.store.clients.values()].flat().map((s) => (s instanceof Y.Item ? JSON.stringify(s.content.getContent()).length : 0)));
      for (const piece of pieces) expect(piece.byteLength, `seed ${seed}`).toBeLessThanOrEqual(pieceBytes + largest + 64);
      for (const piece of pieces) Y.applyUpdate(peer, piece);
      Y.applyUpdate(peer, Y.encodeStateAsUpdate(doc, Y.encodeStateVector(doc)));
      expect(content(peer), `seed ${seed}`).toBe(content(doc));
      expect(Y.encodeStateVector(peer), `seed ${seed}`).toEqual(Y.encodeStateVector(doc));
      // Nothing sent twice beyond the run headers: the pieces weigh about what one answer would.
      expect(pieces.reduce((sum, p) => sum + p.byteLength, 0), `seed ${seed}`).toBeLessThan(whole.byteLength + pieces.length * 64);
    }
    expect(split).toBeGreaterThan(100);
  });

  it('answers null when the answer fits in one piece, and for a peer that has everything', () => {
    const doc = new Y.Doc();
    doc.getMap('messages').set('a', { body: 'short' });
    expect(piecesOfSync(doc, new Map())).toBeNull();
    doc.getMap('messages').set('b', { body: 'x'.repeat(40_000) });
    expect(piecesOfSync(doc, new Map())?.length).toBeGreaterThan(0);
    expect(piecesOfSync(doc, Y.decodeStateVector(Y.encodeStateVector(doc)))).toBeNull();
  });
});

describe('stepOneStateVector and stepOneFrom', () => {
  it('read the state vector of a sync step 1 without moving the decoder, and write one at a document’s', () => {
    const doc = new Y.Doc();
    doc.getMap('m').set('k', 1);
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 0);
    encoding.writeVarUint8Array(encoder, Y.encodeStateVector(doc));
    const decoder = decoding.createDecoder(encoding.toUint8Array(encoder));
    expect(stepOneStateVector(decoder)).toEqual(new Map([[doc.clientID, 1]]));
    expect(decoder.pos).toBe(0);
    const step2 = decoding.createDecoder(new Uint8Array([1, 2, 0, 0]));
    expect(stepOneStateVector(step2)).toBeNull();
    const at = stepOneFrom(Y.encodeStateVector(doc));
    expect(decoding.readVarUint(at)).toBe(0);
    expect(decoding.readVarUint8Array(at)).toEqual(Y.encodeStateVector(doc));
  });
});
