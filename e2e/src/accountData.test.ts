// A person's own data through the real server, on SQLite and on Postgres: the export holds their
// account, devices, conversations, messages (with edits and reactions), reactions and uploads,
// and nothing of conversations they are not in; erasing the account (password-confirmed) signs
// every device out, shows "Deleted user", and leaves no trace of their messages' text in the
// database or in another member's synced replica.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { OutpostClient } from '@outpost/client';
import { AccountExport, OutpostError, readSegment, segmentDoc, type MessageId, type UserId } from '@outpost/shared-schema';
import { backends, freshDatabase, secondDevice, signUp, startNode, teardown, until } from './harness.ts';
import { history } from './history.ts';
import { browserProfile, closeReplicaClients, startOnReplica } from './offlineReplica.ts';
import { postgresTablesHolding, replicaStoresHolding, sqliteFilesHolding } from './textTraces.ts';

afterAll(async () => {
  closeReplicaClients();
  await teardown();
});

describe.each(backends)('export and erase on %s', (backend) => {
  it('an export holds what is the person’s own and nothing of others’ private conversations', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const cy = await signUp(server.url, 'cy');
    await secondDevice(server.url, ada);
    const group = await ada.createGroup('field team', [bob.user.id]);
    const direct = await bob.openDirect(cy.user.id); // ada is not in it
    const privateWords = `bob-to-cy-private-${process.pid}`;
    bob.conversation(direct).send(privateWords);

    const g = ada.conversation(group);
    const mine = g.send('pump station checked');
    g.edit(mine, 'pump station checked twice');
    const b = bob.conversation(group);
    const theirs = b.send('thanks ada');
    await until('bob has ada’s message and ada has bob’s', () => b.has(mine) && g.has(theirs));
    b.react(mine, '👍');
    g.react(theirs, '🎉');
    await until('ada sees bob’s reaction', () => history(g).find((l) => l.id === mine)?.reactions === `👍:${bob.user.id}`);
    const upload = await fetch(`${server.url}/api/conversations/${group}/files/${randomUUID()}?name=notes.txt`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ada.session.accessToken}` },
      body: new TextEncoder().encode('field notes\n'),
    });
    expect(upload.status).toBe(201);
    await until('the read model has the edit', async () => (await server.storage.projection.getMessage(group, mine))?.editedAt !== null);

    const archive = AccountExport.parse(await ada.exportAccount());
    expect(archive.account).toMatchObject({ id: ada.user.id, username: ada.user.username });
    expect(archive.sessions.filter((s) => s.active)).toHaveLength(2);
    expect(archive.conversations.map((c) => [c.id, c.role, c.members.length])).toEqual([[group, 'owner', 2]]);
    expect(archive.messages).toEqual([
      expect.objectContaining({ conversationId: group, id: mine, seq: expect.any(Number), sentBody: 'pump station checked', body: 'pump station checked twice', reactions: { '👍': [bob.user.id] } }),
    ]);
    expect(archive.reactions).toEqual([expect.objectContaining({ conversationId: group, messageId: theirs, emoji: '🎉' })]);
    expect(archive.files).toEqual([expect.objectContaining({ conversationId: group, name: 'notes.txt', type: 'text/plain', messageId: null })]);
    const text = JSON.stringify(archive);
    expect(text).not.toContain(direct);
    expect(text).not.toContain(privateWords);
    expect(text).not.toContain('thanks ada'); // bob's words are bob's
    expect(text).not.toContain('scrypt'); // no password hash
    const audited = await server.storage.audit.list({ kinds: ['account.exported'], involving: ada.user.id, limit: 10 });
    expect(audited.map((e) => [e.actor, e.subject])).toEqual([[ada.user.id, ada.user.id]]);
  });

  it('erasing an account signs it out everywhere and removes its messages’ text for real', async () => {
    const database = await freshDatabase(backend);
    const server = await startNode(database);
    const ada = await signUp(server.url, 'ada');
    const adaPhone = await secondDevice(server.url, ada);
    const signedUp = await signUp(server.url, 'bob');
    const bobSession = signedUp.session;
    signedUp.close();
    const profile = browserProfile();
    const bob = await startOnReplica(server.url, bobSession, profile);
    const group = await ada.createGroup('field team', [bob.client.user.id]);
    const direct = await ada.openDirect(bob.client.user.id);

    const secrets = [`erase-me-${process.pid}-one`, `erase-me-${process.pid}-two`];
    const inGroup = ada.conversation(group).send(secrets[0] as string);
    const inDirect = ada.conversation(direct).send('about to be edited');
    ada.conversation(direct).edit(inDirect, secrets[1] as string);
    const fromBob = bob.client.conversation(group).send('bob stays');
    await until('bob has both of ada’s messages', () => bob.client.conversation(group).has(inGroup) && history(bob.client.conversation(direct)).some((l) => l.body === secrets[1]));
    await until('ada has bob’s message', () => ada.conversation(group).has(fromBob));
    ada.conversation(group).react(fromBob, '👍');
    await until('bob sees ada’s reaction', () => history(bob.client.conversation(group)).find((l) => l.id === fromBob)?.reactions === `👍:${ada.user.id}`);

    // The wrong password erases nothing.
    await expect(ada.eraseAccount('not the password')).rejects.toSatisfy((error: unknown) => error instanceof OutpostError && error.kind === 'forbidden');
    expect((await server.storage.accounts.getUserById(ada.user.id as UserId))?.username).toBe(ada.user.username);

    await ada.eraseAccount('correct horse battery');

    // Signed out everywhere: the other device can no longer call the API or sign in.
    await expect(adaPhone.me()).rejects.toSatisfy((error: unknown) => error instanceof OutpostError && error.kind === 'unauthorized');
    await expect(OutpostClient.login({ url: server.url }, { username: ada.user.username, password: 'correct horse battery' })).rejects.toBeInstanceOf(OutpostError);

    // Bob sees "Deleted user" and tombstones where ada's messages were; his own message stays.
    const b = bob.client.conversation(group);
    await until('bob sees ada’s messages deleted and her reaction gone', () => {
      const lines = history(b);
      return lines.find((l) => l.id === inGroup)?.deleted === true && lines.find((l) => l.id === fromBob)?.reactions === '';
    }, () => history(b));
    await until('bob’s DM shows the deletion too', () => history(bob.client.conversation(direct)).find((l) => l.id === inDirect)?.deleted === true);
    await until('the member list says Deleted user', () => b.members().get().some((m) => m.userId === ada.user.id && m.displayName === 'Deleted user'), () => b.members().get());
    expect(history(b).find((l) => l.id === fromBob)?.body).toBe('bob stays');

    await bob.client.stored();
    await bob.client.searchSaved();
    await server.erased();
    for (const text of secrets) {
      const where = {
        database: backend === 'sqlite' ? await sqliteFilesHolding(database.dataDir, text) : await postgresTablesHolding(database.databaseUrl as string, text),
        replica: await replicaStoresHolding(profile, bobSession.user.id, text),
      };
      expect(where, text).toEqual({ database: [], replica: [] });
    }
    const audited = await server.storage.audit.list({ kinds: ['account.erased'], involving: ada.user.id, limit: 10 });
    expect(audited).toEqual([expect.objectContaining({ actor: ada.user.id, subject: ada.user.id, details: expect.objectContaining({ messages: 2, devicesSignedOut: 2 }) })]);
    const loaded = server.hocuspocus.documents.get(segmentDoc(group, 0));
    if (loaded) expect(readSegment(loaded).get(inGroup as MessageId)?.body).toBe('');
  });
});
