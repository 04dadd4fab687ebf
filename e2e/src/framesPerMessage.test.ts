// What a message costs on the wire (issue 9: "a message reaches each member as close to one frame
// as the protocol allows"): each member receives the committed entry once, and its author one
// acknowledgement besides. Hocuspocus also answered every update of a read-only connection (all
// of Outpost's) with a "not stored" status the provider ignores: one frame per message for
// nothing, until the node stopped sending them.
import { afterAll, expect, it } from 'vitest';
import { WebSocket, type RawData } from 'ws';
import * as decoding from 'lib0/decoding';
import { segmentDoc } from '@outpost/shared-schema';
import { freshDatabase, signUp, startNode, teardown, until } from './harness.ts';

afterAll(teardown);

/** Frames a client receives, by document and message type (sync steps apart). */
type Counts = Map<string, number>;

/** The session parts of the addresses a client received (`name\0session`), by document. */
type Sessions = Map<string, Set<string>>;

function counting(counts: Counts, sessions: Sessions) {
  return class CountingWebSocket extends WebSocket {
    constructor(url: string | URL) {
      super(url, { perMessageDeflate: false });
      this.on('message', (data: RawData) => {
        const decoder = decoding.createDecoder(new Uint8Array(data as Buffer));
        const [documentName, session] = decoding.readVarString(decoder).split('\0');
        sessions.set(documentName!, (sessions.get(documentName!) ?? new Set()).add(session ?? ''));
        const type = decoding.readVarUint(decoder);
        const key = `${documentName} ${type === 0 ? `sync ${decoding.readVarUint(decoder)}` : type === 8 ? `status ${decoding.readVarUint(decoder)}` : `type ${type}`}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      });
    }
  };
}

it('each member receives a message once, and its author one acknowledgement besides', async () => {
  const server = await startNode(await freshDatabase('sqlite'));
  const author: Counts = new Map();
  const member: Counts = new Map();
  const authorSessions: Sessions = new Map();
  const memberSessions: Sessions = new Map();
  const ada = await signUp(server.url, 'ada', { WebSocket: counting(author, authorSessions) });
  const bob = await signUp(server.url, 'bob', { WebSocket: counting(member, memberSessions) });
  const cyd = await signUp(server.url, 'cyd');
  const id = await ada.createGroup('frames', [bob.user.id, cyd.user.id]);
  const views = [ada, bob, cyd].map((client) => client.conversation(id));
  await until('everyone has the group', () => views.every((view) => view.meta().get()?.kind === 'group'));
  await until('everyone has synced the segment', () => [ada, bob, cyd].every((client) => !client.hasUnsyncedChanges) && views.every((view) => view.loadedSegments().includes(0)));
  await new Promise((resolve) => setTimeout(resolve, 300));
  author.clear();
  member.clear();

  const messages = 20;
  for (let i = 0; i < messages; i++) {
    views[0]!.send(`message ${i}`);
    // One at a time, so no two entries leave in one broadcast.
    await until('numbered', () => views[0]!.messages().get().filter((m) => m.seq !== null).length === i + 1);
  }
  await until('everyone has every message', () => views.every((view) => view.messages().get().filter((m) => m.seq !== null).length === messages));
  await new Promise((resolve) => setTimeout(resolve, 300));

  const segment = segmentDoc(id, 0);
  const seen = (counts: Counts) => Object.fromEntries([...counts].filter(([key]) => key.startsWith(segment)).map(([key, n]) => [key.slice(segment.length + 1), n]));
  expect(seen(author)).toEqual({ 'sync 2': messages, 'status 1': messages });
  expect(seen(member)).toEqual({ 'sync 2': messages });
  // Every frame carries its address: the session part is a counter of the document's providers on
  // the socket (a byte or two), not the provider's random id (eleven characters). So both devices
  // have the segment at the same address, and the node encodes its broadcast once for both.
  expect(authorSessions.size).toBeGreaterThan(2);
  for (const sessions of [...authorSessions.values(), ...memberSessions.values()]) {
    for (const session of sessions) expect(session).toMatch(/^[0-9a-z]{1,2}$/);
  }
  expect(authorSessions.get(segment)).toEqual(new Set(['0']));
  expect(memberSessions.get(segment)).toEqual(new Set(['0']));
}, 60_000);
