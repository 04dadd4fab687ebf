// Deletion is real: once a message is deleted, its text — as first sent and as edited — is in
// none of the places it was written: the server's document, the update log (base and entries),
// the read model, the database files (SQLite file and WAL; every Postgres row), and the replica
// of another member's device after it syncs, even one that was offline and comes back holding
// the old updates.
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { readSegment, segmentDoc, segmentMaps, writeDeletion, writeMessage, type MessageId, type UserId } from '@outpost/shared-schema';
import { backends, freshDatabase, signUp, startNode, teardown, until } from './harness.ts';
import { history } from './history.ts';
import { browserProfile, closeReplicaClients, startOnReplica } from './offlineReplica.ts';
import { postgresTablesHolding, replicaStoresHolding, sqliteFilesHolding } from './textTraces.ts';

afterAll(async () => {
  closeReplicaClients();
  await teardown();
});

describe.each(backends)('deleting a message on %s', (backend) => {
  it('leaves no trace of its text in the server, its database or a synced replica', async () => {
    const database = await freshDatabase(backend);
    const server = await startNode(database);
    const ada = await signUp(server.url, 'ada');
    const signedUp = await signUp(server.url, 'bob');
    const id = await ada.openDirect(signedUp.user.id);
    const bobSession = signedUp.session;
    signedUp.close();

    // Bob reads on two devices with replicas; the second goes offline before the deletion.
    const laptopProfile = browserProfile();
    const laptop = await startOnReplica(server.url, bobSession, laptopProfile);
    const phoneProfile = browserProfile();
    const phone = await startOnReplica(server.url, bobSession, phoneProfile);

    const secret = `gravel-otter-${process.pid}-original`;
    const edited = `gravel-otter-${process.pid}-edited`;
    const a = ada.conversation(id);
    const message = a.send(secret);
    // Enough later messages that the segment's log is compacted once: the text is in a base too.
    for (let i = 0; i < 210; i++) a.send(`filler ${i}`);
    a.edit(message, edited);
    const seen = (conversation: ReturnType<typeof ada.conversation>) => {
      const lines = history(conversation);
      return lines.length === 211 && lines.find((l) => l.id === message)?.body === edited;
    };
    await until('both of bob’s devices have the edited message', () => seen(laptop.client.conversation(id)) && seen(phone.client.conversation(id)));
    laptop.client.conversation(id).react(message, '👀');
    await until('ada sees the reaction', () => history(a).find((l) => l.id === message)?.reactions !== '');
    await phone.client.stored();
    phone.close(); // offline from here, holding the text in its replica

    a.delete(message);
    const gone = (conversation: ReturnType<typeof ada.conversation>) => history(conversation).find((l) => l.id === message)?.deleted === true;
    await until('bob’s laptop sees the deletion', () => gone(laptop.client.conversation(id)));
    await server.erased();

    // The server's copy of the segment holds neither text.
    const name = segmentDoc(id, 0);
    const loaded = server.hocuspocus.documents.get(name);
    const serverBytes = Buffer.from(loaded ? Y.encodeStateAsUpdate(loaded) : new Uint8Array());
    for (const text of [secret, edited]) expect(serverBytes.includes(Buffer.from(text))).toBe(false);

    // The deleted message stays a tombstone with its author and number.
    const line = history(laptop.client.conversation(id)).find((l) => l.id === message);
    expect(line).toMatchObject({ seq: 1, author: ada.user.id, body: '', deleted: true, reactions: '' });

    // The phone comes back online with the old updates in its replica and syncs.
    const back = await startOnReplica(server.url, bobSession, phoneProfile);
    await until('the phone sees the deletion', () => gone(back.client.conversation(id)));
    await back.client.stored();
    await laptop.client.stored();
    // The local search index is saved in the replica too (its journal held the text).
    await back.client.searchSaved();
    await laptop.client.searchSaved();
    await server.erased();

    for (const text of [secret, edited]) {
      const where = {
        database: backend === 'sqlite' ? await sqliteFilesHolding(database.dataDir, text) : await postgresTablesHolding(database.databaseUrl as string, text),
        laptop: await replicaStoresHolding(laptopProfile, bobSession.user.id, text),
        phone: await replicaStoresHolding(phoneProfile, bobSession.user.id, text),
      };
      expect(where, text).toEqual({ database: [], laptop: [], phone: [] });
    }
    // The rest of the history is all there.
    expect(history(back.client.conversation(id)).filter((l) => !l.deleted)).toHaveLength(210);
    expect((await server.storage.projection.getMessage(id, message as MessageId))?.body).toBe('');
  });
});

describe('a message deleted before deletion was real', () => {
  it('loses its text when its segment is next loaded', async () => {
    const database = await freshDatabase('sqlite');
    const server = await startNode(database);
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const id = await ada.createGroup('old times', [bob.user.id]);
    bob.close();
    // What an older server left in the log: the message and its deletion, the entry untouched.
    const secret = `legacy-heron-${process.pid}`;
    const messageId = crypto.randomUUID() as MessageId;
    const old = new Y.Doc();
    writeMessage(old, messageId, { author: ada.user.id as UserId, createdAt: 1, body: secret });
    writeDeletion(old, messageId, { by: ada.user.id as UserId, at: 2 });
    const [outcome] = await server.storage.log.commit(
      [{ doc: segmentDoc(id, 0), base: 0, entry: Y.encodeStateAsUpdate(old), messages: { conversationId: id, segmentSize: 1000, list: [{ id: messageId, segment: 0, author: ada.user.id as UserId, createdAt: 1, body: secret }] } }],
      Date.now(),
    );
    expect(outcome?.ok).toBe(true);
    await server.storage.projection.applyMessageStates([{ conversationId: id, id: messageId, edit: null, deletedAt: 2 }]);

    // The next time a node loads the segment (a member opens it), the entry becomes a tombstone.
    const loaded = await server.hocuspocus.openDirectConnection(segmentDoc(id, 0), {});
    try {
      await until('the loaded segment holds a tombstone', () => loaded.document !== null && readSegment(loaded.document).get(messageId)?.body === '' && segmentMaps(loaded.document).messages.get(messageId)?.body === '');
      expect(readSegment(loaded.document as Y.Doc).get(messageId)).toMatchObject({ author: ada.user.id, deleted: { by: ada.user.id } });
    } finally {
      await loaded.disconnect();
    }
    await server.erased();
    expect(await sqliteFilesHolding(database.dataDir, secret)).toEqual([]);
  });
});

describe('the device that deletes', () => {
  it('keeps no trace of the text in its own replica either', async () => {
    const database = await freshDatabase('sqlite');
    const server = await startNode(database);
    const signedUp = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const id = await signedUp.openDirect(bob.user.id);
    const session = signedUp.session;
    signedUp.close();
    const profile = browserProfile();
    const ada = await startOnReplica(server.url, session, profile);
    const a = ada.client.conversation(id);
    const secret = `own-words-${process.pid}`;
    const message = a.send(secret);
    await until('the message is numbered', () => a.isNumbered(message));
    a.delete(message);
    await until('bob sees the deletion', () => history(bob.conversation(id)).find((l) => l.id === message)?.deleted === true);
    await until('ada’s copy holds the tombstone', async () => {
      await ada.client.stored();
      await ada.client.searchSaved();
      return (await replicaStoresHolding(profile, session.user.id, secret)).length === 0;
    });
    await server.erased();
    expect(await sqliteFilesHolding(database.dataDir, secret)).toEqual([]);
  });
});
