// Awareness frames read without a throwaway Y.Doc: the same states as y-protocols' own Awareness
// would hold (seeded updates, with repeated clients, stale clocks and removals), and through
// Hocuspocus the hook sees those states and the document gets what the hook left.
import { describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate } from 'y-protocols/awareness';
import { Hocuspocus, IncomingMessage, MessageReceiver, OutgoingMessage, type Document } from '@hocuspocus/server';
import './OutpostHocuspocus.ts';
import { awarenessStatesOf, encodeAwarenessStates, type AwarenessState } from './awarenessFrames.ts';
import { rngOf, type Rng } from './testing/random.ts';

/** A random awareness update: entries for a few clients (some twice), clocks 0–4, some removals. */
function randomUpdate(rng: Rng): Uint8Array {
  const encoder = encoding.createEncoder();
  const entries = rng.int(7);
  encoding.writeVarUint(encoder, entries);
  for (let i = 0; i < entries; i++) {
    encoding.writeVarUint(encoder, rng.pick([1, 2, 3, 2 ** 31 + 5]));
    encoding.writeVarUint(encoder, rng.int(5));
    encoding.writeVarString(encoder, JSON.stringify(rng.chance(0.3) ? null : { typing: rng.chance(0.5) ? null : rng.uuid(), n: rng.int(100) }));
  }
  return encoding.toUint8Array(encoder);
}

/** What y-protocols' Awareness holds after `update`, leaving out its own local state. */
function reference(update: Uint8Array): { states: Map<number, AwarenessState>; clocks: Map<number, number> } {
  const awareness = new Awareness(new Y.Doc());
  awareness.setLocalState(null);
  applyAwarenessUpdate(awareness, update, null);
  const states = new Map([...awareness.getStates()].filter(([id]) => id !== awareness.clientID)) as Map<number, AwarenessState>;
  const clocks = new Map([...states.keys()].map((id) => [id, awareness.meta.get(id)!.clock]));
  awareness.destroy();
  return { states, clocks };
}

describe('awarenessStatesOf', () => {
  const seeds = Number(process.env.SEEDS ?? 500);
  it(`holds what an Awareness would, for ${seeds} seeded updates, and encodes it back to the same`, () => {
    for (let seed = 1; seed <= seeds; seed++) {
      const rng = rngOf(seed);
      const update = randomUpdate(rng);
      const ours = awarenessStatesOf(update);
      const expected = reference(update);
      expect(ours.states, `seed ${seed}`).toEqual(expected.states);
      expect(new Map([...ours.states.keys()].map((id) => [id, ours.clocks.get(id)])), `seed ${seed}`).toEqual(expected.clocks);
      // Applied to a document's awareness that already holds states, both encodings land the same.
      const before = randomUpdate(rng);
      const landed = [encodeAwarenessStates(ours.states, ours.clocks), encodeAwarenessStates(expected.states, expected.clocks)].map((encoded) => {
        const awareness = new Awareness(new Y.Doc());
        applyAwarenessUpdate(awareness, before, null);
        applyAwarenessUpdate(awareness, encoded, null);
        const result = [...awareness.getStates()].filter(([id]) => id !== awareness.clientID).map(([id, state]) => [id, state, awareness.meta.get(id)!.clock]);
        awareness.destroy();
        return result;
      });
      expect(landed[0], `seed ${seed}`).toEqual(landed[1]);
    }
  });

  it('refuses a malformed update as applying it would', () => {
    const whole = encodeAwarenessStates(new Map([[7, { typing: null }]]), new Map([[7, 1]]));
    for (const broken of [whole.slice(0, whole.length - 3), new Uint8Array([1, 7, 1, 3, 123, 125, 125])]) {
      expect(() => awarenessStatesOf(broken)).toThrow();
      expect(() => reference(broken)).toThrow();
    }
  });
});

it('through Hocuspocus: the hook sees the client’s states, and the document holds what the hook left', async () => {
  const seen: [number, AwarenessState][][] = [];
  const hocuspocus = new Hocuspocus({
    quiet: true,
    async beforeHandleAwareness({ states }) {
      seen.push([...states].map(([id, state]) => [id, { ...state }] as [number, AwarenessState]));
      for (const [id, state] of states) {
        if (state.drop) states.delete(id);
        else state.user = { id: 'from the token' };
      }
    },
  });
  const document = (await hocuspocus.openDirectConnection('presence:x')).document as Document;
  const send = async (entries: [number, number, AwarenessState | null][]) => {
    const message = new OutgoingMessage('presence:x');
    encoding.writeVarUint(message.encoder, 1); // MessageType.Awareness
    const update = encoding.createEncoder();
    encoding.writeVarUint(update, entries.length);
    for (const [id, clock, state] of entries) {
      encoding.writeVarUint(update, id);
      encoding.writeVarUint(update, clock);
      encoding.writeVarString(update, JSON.stringify(state));
    }
    encoding.writeVarUint8Array(message.encoder, encoding.toUint8Array(update));
    const incoming = new IncomingMessage(message.toUint8Array());
    incoming.readVarString();
    await new MessageReceiver(incoming).apply(document);
  };
  await send([[11, 1, { typing: null }], [12, 1, { drop: true }], [13, 2, null]]);
  expect(seen).toEqual([[[11, { typing: null }], [12, { drop: true }]]]);
  const held = () => new Map([...document.awareness.getStates()].filter(([id]) => id !== document.awareness.clientID));
  expect(held()).toEqual(new Map([[11, { typing: null, user: { id: 'from the token' } }]]));
  await send([[11, 1, { typing: 'stale clock' }], [11, 2, { typing: 'newer' }]]);
  expect(held().get(11)).toEqual({ typing: 'newer', user: { id: 'from the token' } });
  await hocuspocus.closeConnections();
});
