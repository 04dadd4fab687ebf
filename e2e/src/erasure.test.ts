// Deletion is real: once a message is deleted, its text — as first sent and as edited — is in
// none of the places it was written: the server's document, the update log (base and entries),
// the read model, the database files (SQLite file and WAL; every Postgres row), and the replica
// of another member's device after it syncs, even one that was offline and comes back holding
// the old updates.
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { segmentDoc, type MessageId } from '@outpost/shared-schema';
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
