// Updates queued for one segment are committed in runs (batch.ts). The property: the batched write
// path decides exactly what the one-at-a-time write path decides for the same frames in the same
// order — the same outcome for every frame (applied, empty, held, or refused with the same code),
// the same sequence numbers, the same document. Seeded bursts from several users and devices, some
// of them behind (writing without having seen the others' latest), a few forgeries among them.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { Connection, Document } from '@hocuspocus/server';
import {
  readSegment,
  segmentDoc,
  segmentMaps,
  writeDeletion,
  writeEdit,
  writeMessage,
  writeReaction,
  type ConversationId,
  type DeviceId,
  type MessageId,
  type Role,
  type UserId,
} from '@outpost/shared-schema';
import { SqliteStorage } from '@outpost/storage';
import type { Logger } from '../log.ts';
import { Committer } from './committer.ts';
import { commitRequests } from './commitRequest.ts';
import { LoadedDocuments } from './documents.ts';
import { Refused } from './refusals.ts';
import { rngOf, type Rng } from './testing/random.ts';
import { WritePath, type Submission } from './writePath.ts';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const SEEDS = Number(process.env.SEEDS ?? 40);

interface Frame {
  update: Uint8Array;
  userId: UserId;
  deviceId: DeviceId;
  role: Role;
}

interface Device {
  userId: UserId;
  deviceId: DeviceId;
  role: Role;
  doc: Y.Doc;
}

/** One server: real SQLite in memory, the real write path; frames of a burst handed in together or one at a time. */
async function server(users: { id: UserId; role: Role }[], conversationId: ConversationId, segmentSize: number) {
  const storage = new SqliteStorage(':memory:');
  await storage.migrate();
  for (const { id } of users) await storage.accounts.createUser({ id, username: `u${id.slice(0, 8)}`, displayName: 'U', passwordHash: 'x', createdAt: 1 });
  await storage.conversations.createConversation({
    id: conversationId,
    kind: 'group',
    title: 't',
    createdBy: users[0]?.id as UserId,
    createdAt: 1,
    members: users.map(({ id, role }) => ({ userId: id, role })),
  });
  const numbered = new Map<string, number>();
  const writePath = new WritePath({
    documents: new LoadedDocuments(storage.log, quiet),
    committer: new Committer((requests, now) => commitRequests(storage.log, requests, now), quiet),
    log: quiet,
    segmentSize,
    hooks: {
      admitMessages: async () => undefined,
      numberedIn: async (_conversation, id) => numbered.get(id) ?? null,
      committed: () => undefined,
      segmentApplied: (_conversation, segment, _doc, changes) => {
        for (const { id } of changes.messages) numbered.set(id, segment);
      },
      readsApplied: () => undefined,
    },
  });
  const name = segmentDoc(conversationId, 0);
  const doc = new Y.Doc();
  await writePath.exclusive(name, () => new LoadedDocuments(storage.log, quiet).load(name, doc));
  const connections = new Map<DeviceId, Connection>();
  const connectionOf = (deviceId: DeviceId) => {
    let connection = connections.get(deviceId);
    if (!connection) {
      connection = { context: { deviceId }, messageAddress: name, send: () => undefined, close: () => undefined } as unknown as Connection;
      connections.set(deviceId, connection);
    }
    return connection;
  };
  const submit = (frame: Frame): Promise<string> =>
    writePath
      .submit({
        name,
        docName: { kind: 'segment', conversationId, segment: 0 },
        doc: doc as Document,
        update: frame.update,
        sender: { userId: frame.userId, deviceId: frame.deviceId },
        role: frame.role,
        connection: connectionOf(frame.deviceId),
        frame: 'update',
      } satisfies Submission)
      .then(
        (result) => result,
        (error: unknown) => (error instanceof Refused ? `refused:${error.code}:${error.message}` : `error:${String(error)}`),
      );
  return {
    doc,
    /** Every frame of a burst handed in at once (they queue behind each other). */
    together: (frames: Frame[]) => Promise.all(frames.map(submit)),
    /** Each frame judged and committed before the next is handed in. */
    oneByOne: async (frames: Frame[]) => {
      const results: string[] = [];
      for (const frame of frames) results.push(await submit(frame));
      return results;
    },
    numbers: async () => {
      const messages = [...readSegment(doc).keys()];
      const out: Record<string, number | null> = {};
      for (const id of messages.sort()) out[id] = (await storage.projection.getMessage(conversationId, id))?.seq ?? null;
      return out;
    },
    batchedUpdates: () => writePath.stats.batchedUpdates,
    close: async () => {
      writePath.close();
      await storage.close();
    },
  };
}

/** The document as members see it, without the server's receive times. */
function contentOf(doc: Y.Doc) {
  const maps = segmentMaps(doc);
  const sorted = <T,>(map: Y.Map<T>) => Object.fromEntries([...map.entries()].sort(([a], [b]) => a.localeCompare(b)));
  return {
    messages: sorted(maps.messages),
    edits: sorted(maps.edits),
    deletions: sorted(maps.deletions),
    reactions: sorted(maps.reactions),
    seq: Object.fromEntries([...maps.seq.entries()].map(([id, entry]) => [id, entry.seq]).sort(([a], [b]) => String(a).localeCompare(String(b)))),
  };
}

/** One device's next frame: what it does to its own copy, as one update (or null: it sits this burst out). */
function act(rng: Rng, device: Device, users: UserId[]): Uint8Array | null {
  const updates: Uint8Array[] = [];
  const listen = (update: Uint8Array) => updates.push(update);
  device.doc.on('update', listen);
  const seen = [...readSegment(device.doc).values()].sort((a, b) => a.id.localeCompare(b.id));
  const live = seen.filter((m) => !m.deleted);
  const mine = live.filter((m) => m.author === device.userId);
  const ops = rng.between(1, 2);
  for (let i = 0; i < ops; i++) {
    const roll = rng.next();
    if (roll < 0.45 || live.length === 0) {
      writeMessage(device.doc, rng.uuid() as MessageId, { author: device.userId, createdAt: 1_000 + rng.int(1000), body: `m${rng.int(1e6)}` });
    } else if (roll < 0.6 && mine.length > 0) {
      writeEdit(device.doc, rng.pick(mine).id, { body: `e${rng.int(1e6)}`, editedAt: 2_000 + rng.int(1000) });
    } else if (roll < 0.78) {
      writeReaction(device.doc, rng.pick(live).id, rng.pick(['👍', '🎉', '❤️']), device.userId, 3_000 + rng.int(1000));
    } else if (roll < 0.86) {
      const reactions = segmentMaps(device.doc).reactions;
      const own = [...reactions.keys()].filter((key) => key.endsWith(device.userId)).sort();
      if (own.length > 0) reactions.delete(rng.pick(own));
    } else if (roll < 0.94) {
      const target = device.role === 'owner' ? rng.pick(live) : mine.length > 0 ? rng.pick(mine) : null;
      if (target) writeDeletion(device.doc, target.id, { by: device.userId, at: 4_000 + rng.int(1000) });
    } else if (roll < 0.97 && live.length > 0) {
      // A forgery: an edit of someone else's message, or a message signed by another user.
      const other = live.find((m) => m.author !== device.userId);
      if (other) writeEdit(device.doc, other.id, { body: 'forged', editedAt: 5_000 });
      else writeMessage(device.doc, rng.uuid() as MessageId, { author: rng.pick(users.filter((u) => u !== device.userId)), createdAt: 1, body: 'forged' });
    } else {
      // The same message id as one already there (written once).
      const taken = rng.pick(live);
      writeMessage(device.doc, taken.id, { author: device.userId, createdAt: 1, body: 'again' });
    }
  }
  device.doc.off('update', listen);
  return updates.length === 0 ? null : Y.mergeUpdates(updates);
}

describe('batched segment writes decide what one-at-a-time writes decide', () => {
  it(`${SEEDS} seeded sessions: same outcomes, numbers and document`, async () => {
    let batchedFrames = 0;
    let batchedUpdates = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const rng = rngOf(seed);
      const userIds = Array.from({ length: 4 }, () => rng.uuid() as UserId);
      const users = userIds.map((id, i) => ({ id, role: (i === 0 ? 'owner' : 'member') as Role }));
      const conversationId = rng.uuid() as ConversationId;
      const segmentSize = rng.pick([5, 1000]);
      const batched = await server(users, conversationId, segmentSize);
      const single = await server(users, conversationId, segmentSize);
      const devices: Device[] = users.flatMap(({ id, role }) =>
        Array.from({ length: 2 }, () => {
          const doc = new Y.Doc();
          doc.clientID = rng.int(2 ** 31) + 1;
          return { userId: id, deviceId: rng.uuid() as DeviceId, role, doc };
        }),
      );
      try {
        for (let burst = 0; burst < 12; burst++) {
          const frames: Frame[] = [];
          for (const device of rng.shuffle([...devices])) {
            // A device that is behind writes without having seen the others' latest changes.
            if (rng.chance(0.7)) Y.applyUpdate(device.doc, Y.encodeStateAsUpdate(batched.doc, Y.encodeStateVector(device.doc)));
            if (!rng.chance(0.8)) continue;
            const update = act(rng, device, userIds);
            if (update) frames.push({ update, userId: device.userId, deviceId: device.deviceId, role: device.role });
          }
          const together = await batched.together(frames);
          const oneByOne = await single.oneByOne(frames);
          expect(together, `seed ${seed}, burst ${burst}: outcomes`).toEqual(oneByOne);
          batchedFrames += frames.length;
          // A refused device starts over from the server's copy (as the SDK quarantines).
          together.forEach((outcome, i) => {
            if (!outcome.startsWith('refused')) return;
            const device = devices.find((d) => d.deviceId === frames[i]?.deviceId) as Device;
            device.doc = new Y.Doc();
            device.doc.clientID = rng.int(2 ** 31) + 1;
          });
        }
        batchedUpdates += batched.batchedUpdates();
        expect(single.batchedUpdates()).toBe(0);
        expect(contentOf(batched.doc), `seed ${seed}: document`).toEqual(contentOf(single.doc));
        expect(await batched.numbers(), `seed ${seed}: numbers`).toEqual(await single.numbers());
      } finally {
        await batched.close();
        await single.close();
      }
    }
    // Most frames of a burst went through runs of independent updates, not one by one.
    expect(batchedUpdates).toBeGreaterThan(batchedFrames / 3);
  }, 600_000);
});
