// Backups: `./outpost backup` of a live node while people keep writing, `./outpost restore` into
// a fresh node, and the restored node serves the same history (numbers, edits, reactions, files)
// through the SDK — on SQLite (online backup API) and on Postgres (pg_dump / pg_restore).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { MessageId } from '@outpost/shared-schema';
import { pdf } from './fileFixtures.ts';
import { backends, freshDatabase, secondDevice, signUp, startNode, teardown, until } from './harness.ts';
import { history, numberedOneToN } from './history.ts';
import { browserProfile, closeReplicaClients, startOnReplica } from './offlineReplica.ts';

afterAll(async () => {
  closeReplicaClients();
  await teardown();
});

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs `./outpost backup|restore <dir>` as an operator would (the script behind it), with the node's settings. */
async function outpost(command: 'backup' | 'restore', dir: string, database: { dataDir: string; databaseUrl?: string }): Promise<string> {
  const { stdout } = await run(process.execPath, [path.join(repoRoot, 'sync-server/src/backupMain.ts'), command, dir], {
    env: { ...process.env, DATA_DIR: database.dataDir, DATABASE_URL: database.databaseUrl ?? '' },
  });
  return stdout;
}

describe.each(backends)('backup and restore on %s', (backend) => {
  it('backs up a live node while messages flow; a fresh node restored from it serves the same history', async () => {
    const live = await freshDatabase(backend);
    const server = await startNode(live);
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const id = await bob.createGroup('night shift', [ada.user.id]);
    const chat = ada.conversation(id);
    const ids: MessageId[] = [];
    for (let i = 1; i <= 25; i++) ids.push(chat.send(`log entry ${i}`));
    const withFile = chat.send('the report', { attachments: [{ data: pdf, name: 'report.pdf', type: 'application/pdf' }] });
    await until('26 messages numbered', () => history(chat).filter((line) => line.seq !== null).length === 26);
    chat.edit(ids[3] as MessageId, 'log entry 4, corrected');
    bob.conversation(id).react(ids[0] as MessageId, '👍');
    await until('the edit and the reaction reached ada', () => history(chat).some((l) => l.edited) && history(chat).some((l) => l.reactions !== ''));
    const before = history(chat);

    // Bob keeps writing while the backup runs.
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        bob.conversation(id).send(`during the backup ${i}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'outpost-backup-')), 'backup');
    try {
      expect(await outpost('backup', dir, live)).toMatch(new RegExp(`backed up the ${backend} node into`));
      writing = false;
      await writer;
      await until('everything written is numbered on the live node', () => history(bob.conversation(id)).every((line) => line.seq !== null));
      const liveCount = history(bob.conversation(id)).length;

      // A fresh node (new data directory, new empty database) restored from the backup.
      const fresh = await freshDatabase(backend);
      expect(await outpost('restore', dir, fresh)).toMatch(/restored the backup/);
      await expect(outpost('restore', dir, fresh)).rejects.toThrow(backend === 'sqlite' ? /exists: restore into an empty DATA_DIR/ : /already holds Outpost data/);
      const restored = await startNode(fresh);
      expect((await fetch(`${restored.url}/ready`)).status).toBe(200);

      // Ada signs in on the restored node with her password (accounts came back) and reads.
      const again = await secondDevice(restored.url, ada);
      const conversation = again.conversation(id);
      await until('the restored history arrives', () => history(conversation).filter((line) => line.seq !== null).length >= before.length, () => history(conversation).length);
      const after = history(conversation);
      expect(after.slice(0, before.length)).toEqual(before); // same numbers, bodies, authors, edits, reactions
      expect(numberedOneToN(after)).toBe(true); // a consistent snapshot: no gap
      expect(after.length).toBeLessThanOrEqual(liveCount);
      // The file's bytes came back too (beside SQLite, or inside Postgres).
      const attachment = conversation.messages().get().find((m) => m.id === withFile)?.attachments?.[0];
      expect(attachment?.name).toBe('report.pdf');
      expect(new Uint8Array(await ((await again.file(id, attachment!)) as Blob).arrayBuffer())).toEqual(pdf);

      // The restored node takes new messages after the restored ones.
      conversation.send('first after the restore');
      await until('numbered after the restored ones', () => history(conversation).at(-1)?.seq === after.length + 1);
    } finally {
      writing = false;
      await rm(path.dirname(dir), { recursive: true, force: true });
    }
  });
});

describe.each(backends)('devices that wrote after the backup, on %s', (backend) => {
  it('bring it back to the restored node: every device converges on one history, numbered 1..N, nothing lost', async () => {
    const signingKey = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64');
    const live = await freshDatabase(backend);
    const server = await startNode({ ...live, signingKey });
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const id = await bob.createGroup('night shift', [ada.user.id]);
    const profiles = [browserProfile(), browserProfile()];
    const sessions = [ada.session, bob.session];
    let devices = await Promise.all(sessions.map((session, i) => startOnReplica(server.url, session, profiles[i]!)));
    const chat = (i: number) => devices[i]!.client.conversation(id);
    for (let i = 1; i <= 5; i++) chat(i % 2).send(`before the backup ${i}`);
    await until('5 numbered on both devices', () => [0, 1].every((i) => history(chat(i)).filter((l) => l.seq !== null).length === 5));
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'outpost-backup-')), 'backup');
    try {
      await outpost('backup', dir, live);
      // After the backup: more messages, an edit and a reaction, numbered by the live node.
      for (let i = 1; i <= 5; i++) chat(i % 2).send(`after the backup ${i}`);
      await until('10 numbered on both devices', () => [0, 1].every((i) => history(chat(i)).filter((l) => l.seq !== null).length === 10));
      const first = history(chat(0))[0]!;
      chat(1).react(first.id as MessageId, '👍');
      await until('the reaction reached ada', () => history(chat(0))[0]?.reactions !== '');
      for (const device of devices) {
        await device.client.stored();
        device.close();
      }
      await server.close();

      // The live node is lost; a fresh one is restored from last night's backup and the
      // devices' apps reach it with what their replicas hold.
      const fresh = await freshDatabase(backend);
      await outpost('restore', dir, fresh);
      const restored = await startNode({ ...fresh, signingKey });
      devices = await Promise.all(sessions.map((session, i) => startOnReplica(restored.url, session, profiles[i]!)));
      const bodies = (i: number) => history(chat(i)).map((l) => `${l.seq} ${l.body} ${l.reactions}`);
      const lastSeq = async () => (await restored.storage.conversations.getConversation(id))?.lastSeq;
      // (The replicas show their ten at once: what counts is the restored node holding them too.)
      await until(
        'the node numbered ten, and both devices show the same ten, numbered 1..10',
        async () =>
          (await lastSeq()) === 10 && [0, 1].every((i) => history(chat(i)).length === 10 && numberedOneToN(history(chat(i)))) && JSON.stringify(bodies(0)) === JSON.stringify(bodies(1)),
        async () => ({ lastSeq: await lastSeq(), ada: bodies(0), bob: bodies(1), failures: devices.map((d) => d.client.failures()) }),
      );
      expect(new Set(history(chat(0)).map((l) => l.body)).size).toBe(10);
      // The reaction made after the backup came back with its message.
      expect(history(chat(0)).find((l) => l.id === first.id)?.reactions).toMatch(/👍/);
      // Each device found its copy ahead of the node's (the node's own entries it no longer had),
      // started from the node's and carried its work over: nothing is reported lost.
      expect(devices.flatMap((d) => d.client.failures().flatMap((f) => f.lost))).toEqual([]);
    } finally {
      await rm(path.dirname(dir), { recursive: true, force: true });
    }
  }, 120_000);
});

describe('backup and restore mistakes', () => {
  it('say what to do instead of half-working', async () => {
    const live = await freshDatabase('sqlite');
    await startNode(live);
    const base = await mkdtemp(path.join(tmpdir(), 'outpost-backup-'));
    try {
      const failure = (promise: Promise<unknown>) => promise.then(() => '', (error: { stderr?: string }) => error.stderr ?? '');
      // Into a directory that holds something: refused, nothing overwritten.
      expect(await failure(outpost('backup', live.dataDir, live))).toMatch(/is not empty: back up into a new directory/);
      // From a directory that is not a finished backup.
      expect(await failure(outpost('restore', base, await freshDatabase('sqlite')))).toMatch(/is not a finished Outpost backup/);
      // A SQLite backup into a node configured for Postgres.
      const dir = path.join(base, 'backup');
      await outpost('backup', dir, live);
      const elsewhere = { dataDir: path.join(base, 'pg-node'), databaseUrl: 'postgres://outpost@127.0.0.1:1/empty' };
      expect(await failure(outpost('restore', dir, elsewhere))).toMatch(/this is a sqlite backup and the node is configured for postgres/);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
