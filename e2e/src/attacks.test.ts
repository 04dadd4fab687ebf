// The attacker suite: a member with a valid account talks to the real server with raw Yjs and
// raw frames, breaking every rule. For each attack: the refusal that names the rule, the
// document unchanged, the server up, and the honest users still chatting.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { HocuspocusProvider } from '@hocuspocus/provider';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { OutpostClient } from '@outpost/client';
import {
  inboxDoc,
  reactionKey,
  segmentDoc,
  segmentMaps,
  serverDoc,
  userDoc,
  writeDeletion,
  writeEdit,
  writeMessage,
  writeReaction,
  type ConversationId,
  type MessageId,
  type UserId,
} from '@outpost/shared-schema';
import type { OutpostServer } from '@outpost/sync-server';
import { attempt, authFrame, hugeGcUpdate, rawSocket, updateFrame, type Outcome } from './attacker.ts';
import { backends, freshDatabase, signUp, startNode, teardown, until } from './harness.ts';
import { history } from './history.ts';

afterAll(teardown);

describe.each(backends)('attacks on %s', (backend) => {
  let server: OutpostServer;
  let dataDir: string;
  let ada: OutpostClient; // the honest pair
  let bob: OutpostClient;
  let eve: OutpostClient; // the attacker: a member of the group, not of the DM
  let dm: ConversationId;
  let group: ConversationId;
  let bobsMessage: MessageId;

  beforeAll(async () => {
    const database = await freshDatabase(backend);
    dataDir = database.dataDir;
    server = await startNode(database);
    ada = await signUp(server.url, 'ada');
    bob = await signUp(server.url, 'bob');
    eve = await signUp(server.url, 'eve');
    dm = await ada.openDirect(bob.user.id);
    group = await bob.createGroup('crew', [ada.user.id, eve.user.id]);
    bobsMessage = bob.conversation(group).send('a message eve would like to change');
    await until('bob’s message is numbered', () => history(bob.conversation(group))[0]?.seq === 1);
  });

  const evesToken = () => eve.session.accessToken;

  /** Opens `docName` as eve, writes `change`, and waits long enough to see it was not applied. */
  async function ignored(docName: string, change: (doc: Y.Doc) => void): Promise<void> {
    const doc = new Y.Doc();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${docName} never synced`)), 20_000);
      const provider = new HocuspocusProvider({
        url: server.url.replace('http', 'ws') + '/sync',
        name: docName,
        document: doc,
        token: evesToken(),
        onSynced: () => {
          change(doc);
          // A negative check: give the server time to (not) apply it.
          setTimeout(() => {
            clearTimeout(timer);
            provider.destroy();
            resolve();
          }, 500);
        },
      });
    });
  }
  const segment = () => server.hocuspocus.documents.get(segmentDoc(group, 0));

  /** Runs an attack against the group's segment and checks the four promises. */
  async function refusedWithout(change: (doc: Y.Doc, sendRaw: (update: Uint8Array) => void) => void, reason: RegExp, docName = segmentDoc(group, 0), prepare?: (doc: Y.Doc) => void): Promise<void> {
    const before = Y.encodeStateAsUpdate(server.hocuspocus.documents.get(docName) ?? new Y.Doc());
    const lastSeq = (await server.storage.conversations.getConversation(group))?.lastSeq;
    const outcome: Outcome = await attempt(server.url, docName, evesToken(), change, prepare);
    expect(outcome).toMatchObject({ refused: true });
    expect(outcome.refused && outcome.reason).toMatch(reason);
    const after = server.hocuspocus.documents.get(docName);
    if (after) expect(Y.encodeStateAsUpdate(after)).toEqual(before); // the document is unchanged
    expect((await server.storage.conversations.getConversation(group))?.lastSeq).toBe(lastSeq);
    await honestUsersStillChat();
  }

  async function honestUsersStillChat(): Promise<void> {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const id = ada.conversation(dm).send(`still here ${Math.random()}`);
    await until('bob still receives ada’s messages', () => history(bob.conversation(dm)).some((l) => l.id === id && l.seq !== null));
  }

  it('refuses a forged author', async () => {
    await refusedWithout((d) => writeMessage(d, crypto.randomUUID() as MessageId, { author: bob.user.id as UserId, createdAt: 1, body: 'from "bob"' }), /author must be the sender/);
  });

  it('refuses editing, deleting and reacting as someone else', async () => {
    await refusedWithout((d) => writeEdit(d, bobsMessage, { body: 'changed by eve', editedAt: 2 }), /only the author edits/);
    await refusedWithout((d) => writeDeletion(d, bobsMessage, { by: eve.user.id as UserId, at: 2 }), /only the author or a group admin deletes/);
    await refusedWithout((d) => writeReaction(d, bobsMessage, '💩', bob.user.id as UserId, 2), /own user id/);
    await refusedWithout((d) => writeDeletion(d, bobsMessage, { by: bob.user.id as UserId, at: 2 }), /only the author or a group admin/);
  });

  it('refuses removing someone else’s reaction and overwriting a message entry', async () => {
    bob.conversation(group).react(bobsMessage, '👍');
    await until('the server has bob’s reaction', () => segmentMaps(segment()!).reactions.has(reactionKey(bobsMessage, '👍', bob.user.id as UserId)));
    await refusedWithout((d) => segmentMaps(d).reactions.delete(reactionKey(bobsMessage, '👍', bob.user.id as UserId)), /only your own reactions/);
    await refusedWithout((d) => writeMessage(d, bobsMessage, { author: eve.user.id as UserId, createdAt: 1, body: 'mine now' }), /written once/);
    await refusedWithout((d) => segmentMaps(d).messages.delete(bobsMessage), /cannot be removed/);
  });

  it('refuses an unknown root, nested types and oversized bodies', async () => {
    await refusedWithout((d) => d.getMap('evil').set('x', 1), /unknown root/);
    await refusedWithout((d) => d.getMap('edits').set(crypto.randomUUID(), new Y.Map()), /nested|plain values/);
    await refusedWithout((d) => writeMessage(d, crypto.randomUUID() as MessageId, { author: eve.user.id as UserId, createdAt: 1, body: 'x'.repeat(100_001) }), /malformed/);
    await refusedWithout((d) => d.getMap('messages').set(crypto.randomUUID(), { author: eve.user.id, createdAt: 1, body: 'hi', extra: 'field' }), /malformed/);
  });

  it('refuses the NUL character in a message or an edit, and the node goes on committing', async () => {
    // Postgres text cannot hold NUL: a message with one used to fail every commit of its segment.
    await refusedWithout((d) => writeMessage(d, crypto.randomUUID() as MessageId, { author: eve.user.id as UserId, createdAt: 1, body: 'a \u0000 b' }), /malformed/);
    const evesMessage = eve.conversation(group).send('eve’s own message');
    await until('eve’s message is numbered', () => history(eve.conversation(group)).some((l) => l.id === evesMessage && l.seq !== null));
    await refusedWithout((d) => writeEdit(d, evesMessage, { body: 'edited \u0000', editedAt: 2 }), /malformed/);
  });

  it('keeps what a person wrote but the NUL character, which the SDK leaves out', async () => {
    const id = ada.conversation(dm).send('pasted \u0000text');
    await until('bob has ada’s pasted message', () => history(bob.conversation(dm)).some((l) => l.id === id && l.seq !== null && l.body === 'pasted text'));
    ada.conversation(dm).edit(id, 'edited\u0000 again');
    await until('bob has the edit', () => history(bob.conversation(dm)).some((l) => l.id === id && l.body === 'edited again'));
  });

  it('refuses writing another user’s read positions or documents', async () => {
    const otherDevice = crypto.randomUUID();
    const outcome = await attempt(server.url, userDoc(eve.user.id as UserId), evesToken(), (d) => d.getMap('reads').set(`${group}/${otherDevice}`, 1));
    expect(outcome).toMatchObject({ refused: true, reason: expect.stringMatching(/its own read positions/) });
    const bobs = await attempt(server.url, userDoc(bob.user.id as UserId), evesToken(), (d) => d.getMap('reads').set(`${group}/${otherDevice}`, 1));
    expect(bobs).toMatchObject({ refused: true, reason: expect.stringMatching(/forbidden\[accessLost\]: this document belongs to another user/) });
    expect(server.hocuspocus.documents.has(userDoc(bob.user.id as UserId)) && server.hocuspocus.documents.get(userDoc(bob.user.id as UserId))!.getMap('reads').size).toBeFalsy();
    await honestUsersStillChat();
  });

  it('never lets a client write the server or inbox documents, or a sequence number', async () => {
    for (const [docName, change] of [
      [serverDoc(group), (d: Y.Doc) => d.getMap('meta').set('title', 'pwned')],
      [inboxDoc(eve.user.id as UserId), (d: Y.Doc) => d.getMap('conversations').set(group, { kind: 'group', title: 'pwned', joinedAt: 0 })],
    ] as const) {
      const before = Y.encodeStateAsUpdate(server.hocuspocus.documents.get(docName) ?? new Y.Doc());
      // Read-only documents ignore what a client sends (a stale copy is no reason to refuse).
      await ignored(docName, change);
      const after = server.hocuspocus.documents.get(docName);
      if (after) expect(Y.encodeStateAsUpdate(after)).toEqual(before);
    }
    await refusedWithout((d) => segmentMaps(d).seq.set(bobsMessage, { seq: 99, at: 1 }), /written by the server only/);
    await honestUsersStillChat();
  });

  it('refuses an update written under another user’s Yjs client id', async () => {
    const bobsClient = [...segment()!.store.clients.keys()].find((client) => {
      const structs = segment()!.store.clients.get(client) ?? [];
      return structs.some((s) => s instanceof Y.Item && (s.content.getContent()[0] as { author?: string })?.author === bob.user.id);
    });
    expect(bobsClient).toBeDefined();
    await refusedWithout(
      (d) => {
        d.clientID = bobsClient!;
        writeMessage(d, crypto.randomUUID() as MessageId, { author: eve.user.id as UserId, createdAt: 1, body: 'under bob’s client id' });
      },
      /another user’s Yjs client id/,
    );
    // Bob keeps writing under his client id.
    const id = bob.conversation(group).send('my client id still works');
    await until('bob’s next message is numbered', () => history(ada.conversation(group)).some((l) => l.id === id && l.seq !== null));
  });

  it('refuses tiny updates that claim huge ranges', async () => {
    await refusedWithout((_d, sendRaw) => sendRaw(hugeGcUpdate(424242, 2 ** 30)), /expands beyond|garbage-collected/);
  });

  it('survives a 10 MB frame, random bytes and truncated frames', async () => {
    const big = rawSocket(server.url);
    await big.opened;
    big.ws.send(new Uint8Array(10 * 1024 * 1024));
    expect(await big.closed).toBe(1009); // message too big
    for (const bytes of [crypto.getRandomValues(new Uint8Array(64)), updateFrame(segmentDoc(group, 0), new Uint8Array([1, 2, 3])).slice(0, 7), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff])]) {
      const socket = rawSocket(server.url);
      await socket.opened;
      socket.ws.send(authFrame(segmentDoc(group, 0), evesToken()));
      socket.ws.send(bytes);
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.ws.close();
      await socket.closed;
    }
    await honestUsersStillChat();
    expect((await server.storage.conversations.getConversation(group))?.lastSeq).toBeGreaterThan(0);
  });

  it('closes a socket that sends 10,000 messages before authenticating', async () => {
    const socket = rawSocket(server.url);
    await socket.opened;
    const frame = updateFrame(segmentDoc(group, 0), Y.encodeStateAsUpdate(new Y.Doc()));
    for (let i = 0; i < 10_000 && socket.ws.readyState === WebSocket.OPEN; i++) socket.ws.send(frame);
    expect(await socket.closed).toBeGreaterThanOrEqual(1000);
    expect(server.hocuspocus.getConnectionsCount()).toBeLessThan(20);
    await honestUsersStillChat();
  });

  it('refuses forged, expired, alg:none and wrong-audience tokens before any document loads', async () => {
    const key = new Uint8Array(Buffer.from((await readFile(path.join(dataDir, 'signing-key'), 'utf8')).trim(), 'base64'));
    const claims = { did: eve.session.deviceId };
    const sign = (k: Uint8Array, build: (jwt: SignJWT) => SignJWT) =>
      build(new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(bob.user.id).setIssuedAt().setNotBefore('0s')).sign(k);
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const tokens = {
      forged: await sign(crypto.getRandomValues(new Uint8Array(32)), (j) => j.setIssuer('outpost').setAudience('outpost').setExpirationTime('5m')),
      expired: await sign(key, (j) => j.setIssuer('outpost').setAudience('outpost').setExpirationTime(now - 60)),
      wrongAudience: await sign(key, (j) => j.setIssuer('outpost').setAudience('someone-else').setExpirationTime('5m')),
      algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: bob.user.id, did: eve.session.deviceId, iss: 'outpost', aud: 'outpost', iat: now, nbf: now, exp: now + 300 })}.`,
    };
    const victimDoc = inboxDoc(bob.user.id as UserId);
    const loadedBefore = server.hocuspocus.documents.has(victimDoc);
    for (const [name, token] of Object.entries(tokens)) {
      const response = await fetch(`${server.url}/api/users/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status, name).toBe(401);
      const outcome = await attempt(server.url, victimDoc, token, () => {});
      expect(outcome, name).toMatchObject({ refused: true, reason: expect.stringMatching(/^unauthorized/) });
    }
    expect(server.hocuspocus.documents.has(victimDoc)).toBe(loadedBefore);
    await honestUsersStillChat();
  });

  it('refuses a client that speaks another protocol version, with a reason a person can act on', async () => {
    const reason = await new Promise<string>((resolve) => {
      const provider = new HocuspocusProvider({
        url: `${server.url.replace('http', 'ws')}/sync?protocol=999`,
        name: segmentDoc(group, 0),
        document: new Y.Doc(),
        token: evesToken(),
        onAuthenticationFailed: ({ reason: why }) => {
          provider.destroy();
          resolve(why);
        },
      });
    });
    expect(reason).toMatch(/^invalidInput\[outdated\]: this app speaks protocol 999, the server 2: reload or update/);
    await honestUsersStillChat(); // the SDK sends protocol=2 and is accepted
  });

  it('refuses opening a conversation one is not a member of', async () => {
    const outcome = await attempt(server.url, segmentDoc(dm, 0), evesToken(), () => {});
    expect(outcome).toMatchObject({ refused: true, reason: expect.stringMatching(/forbidden\[accessLost\]: not a member/) });
    expect(history(bob.conversation(dm)).every((l) => l.author !== eve.user.id)).toBe(true);
  });

  it('cuts off a member removed mid-session and refuses their later updates', async () => {
    const mallory = await signUp(server.url, 'mallory');
    await bob.addMembers(group, [mallory.user.id]);
    let provider: HocuspocusProvider | undefined;
    const reason = await new Promise<string>((resolve) => {
      provider = new HocuspocusProvider({
        url: server.url.replace('http', 'ws') + '/sync',
        name: segmentDoc(group, 0),
        document: new Y.Doc(),
        token: mallory.session.accessToken,
        onSynced: () => void bob.removeMember(group, mallory.user.id),
        onClose: ({ event }) => {
          if (event.reason) resolve(event.reason);
        },
      });
    });
    provider?.destroy();
    expect(reason).toMatch(/^forbidden\[accessLost\]: removed from the conversation/);
    const late = await attempt(server.url, segmentDoc(group, 0), mallory.session.accessToken, (d) =>
      writeMessage(d, crypto.randomUUID() as MessageId, { author: mallory.user.id as UserId, createdAt: 1, body: 'after removal' }),
    );
    expect(late).toMatchObject({ refused: true, reason: expect.stringMatching(/forbidden\[accessLost\]: not a member/) });
    await honestUsersStillChat();
  });

  it('rate-limits a flood of updates and keeps serving everyone else', async () => {
    const outcome = await attempt(server.url, segmentDoc(group, 0), evesToken(), (d) => {
      for (let i = 0; i < 2_000; i++) writeReaction(d, bobsMessage, `e${i % 20}`, eve.user.id as UserId, i);
    });
    expect(outcome).toMatchObject({ refused: true, reason: expect.stringMatching(/rateLimited\[retry,\d+\]: too many updates; retry in \d+ s/) });
    await honestUsersStillChat();
  });
});
