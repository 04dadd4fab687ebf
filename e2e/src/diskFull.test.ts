// The disk fills up: a field laptop running the embedded default (SQLite under DATA_DIR) with a
// disk that really is full, and a Postgres whose disk is full. DATA_DIR is a small tmpfs mounted for the test (it needs root,
// as CI runs; without it the test fails saying so), filled with a file until the kernel says
// ENOSPC. While it is full, nothing written is lost or half-stored: writes are refused as "try
// again" and wait in the clients' outboxes, the node stays up, and it says what is wrong. Once
// space is freed everything is numbered, and a restart finds it all.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, open, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startPostgres } from '@outpost/storage/testing';
import { pdf } from './fileFixtures.ts';
import { freshDatabase, secondDevice, signUp, spawnNode, teardown, until } from './harness.ts';
import { history, numberedOneToN } from './history.ts';

afterAll(teardown);

/** A tmpfs of `megabytes` at a new directory; throws with what is missing when mounting is not allowed. */
async function smallDisk(megabytes: number): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    await rmdir(dir);
    throw new Error(`this test mounts a ${megabytes} MB tmpfs to fill a real disk, and needs root (CAP_SYS_ADMIN) for it: ${(error as { stderr?: Buffer }).stderr?.toString() ?? error}`, {
      cause: error,
    });
  }
  return {
    dir,
    remove: async () => {
      execFileSync('umount', ['-l', dir]);
      await rmdir(dir);
    },
  };
}

/** Writes `file` until the disk has no space left; resolves with the bytes written. */
async function fill(file: string): Promise<number> {
  const handle = await open(file, 'a');
  const chunk = Buffer.alloc(64 * 1024, 1);
  let written = 0;
  try {
    for (;;) {
      const { bytesWritten } = await handle.write(chunk);
      written += bytesWritten;
      if (bytesWritten < chunk.length) break;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close();
  }
  return written;
}

/** Ada and Bob in a DM through `url`, with one message numbered before anything goes wrong. */
async function aDmWithOneMessage(url: string) {
  const ada = await signUp(url, 'ada');
  const bob = await signUp(url, 'bob');
  const id = await ada.openDirect(bob.user.id);
  const [a, b] = [ada.conversation(id), bob.conversation(id)];
  a.send('before the disk filled');
  await until('numbered at bob', () => history(b)[0]?.seq === 1);
  return { ada, bob, id, a, b };
}

describe('a node whose disk is full (SQLite)', () => {
  it('refuses writes as "try again" while full, loses nothing, and numbers everything once space is freed', async () => {
    const disk = await smallDisk(24);
    try {
      const dataDir = path.join(disk.dir, 'data');
      const node = await spawnNode({ dataDir });
      const { ada, bob, id, a, b } = await aDmWithOneMessage(node.url);

      const filler = path.join(disk.dir, 'filler');
      expect(await fill(filler)).toBeGreaterThan(0);
      const written = ['while full 1', 'while full 2', 'while full 3'].map((body) => a.send(body));
      b.send('while full, from bob');
      const withFile = a.send('while full, with a file', { attachments: [{ data: pdf, name: 'plan.pdf', type: 'application/pdf' }] });
      await until('ada is told to try again', () => ada.failures().some((f) => f.code === 'retry'), () => ada.failures(), 20_000);
      // An upload while full is the server's fault, to be sent again later (what the SDK does on
      // its own), not a broken upload the person must send again by hand.
      const upload = await fetch(`${node.url}/api/conversations/${id}/files/${randomUUID()}?name=plan.pdf`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ada.session.accessToken}`, 'content-type': 'application/pdf' },
        body: pdf,
      });
      expect(upload.status).toBe(500);
      expect(await upload.json()).toMatchObject({ error: { kind: 'internal' } });
      // Nothing is numbered that was not stored, and nobody's work is given up.
      expect(history(a).filter((l) => l.seq !== null).map((l) => l.seq)).toEqual([1]);
      expect([...ada.failures(), ...bob.failures()].filter((f) => f.code !== 'retry')).toEqual([]);
      expect((await fetch(`${node.url}/health`)).status).toBe(200);

      await rm(filler);
      await until(
        'everything is numbered once space is freed, and both agree',
        () => history(a).length === 6 && numberedOneToN(history(a)) && JSON.stringify(history(a)) === JSON.stringify(history(b)),
        () => ({ a: history(a), b: history(b), failures: ada.failures() }),
        60_000,
      );
      expect(written.every((id) => history(a).some((l) => l.id === id))).toBe(true);
      // The file too, whole.
      const received = b.messages().get().find((m) => m.id === withFile);
      expect(received?.attachments).toHaveLength(1);
      expect(new Uint8Array(await ((await bob.file(id, received!.attachments![0]!)) as Blob).arrayBuffer())).toEqual(pdf);

      // A restart finds it all, as a new device sees it.
      await node.kill();
      await node.restart();
      const fresh = await secondDevice(node.url, bob);
      await until('a new device of bob has the six messages, 1..6', () => {
        const lines = history(fresh.conversation(id));
        return lines.length === 6 && numberedOneToN(lines);
      });
      expect(history(fresh.conversation(id)).map((l) => l.body)).toEqual(history(a).map((l) => l.body));
      for (const client of [ada, bob, fresh]) client.close();
      await node.kill();
    } finally {
      await disk.remove();
    }
  }, 120_000);
});

describe('a Postgres whose disk is full', () => {
  it('refuses writes as "try again" while full, keeps the nodes up, loses nothing, and numbers everything once space is freed', async () => {
    // initdb's files and a WAL segment or two (~60 MB), then room for the test's first writes.
    const disk = await smallDisk(160);
    const postgres = await startPostgres({ parentDir: disk.dir });
    try {
      const node = await spawnNode({ ...(await freshDatabase('sqlite')), databaseUrl: postgres.url });
      const { ada, bob, id, a, b } = await aDmWithOneMessage(node.url);

      const filler = path.join(disk.dir, 'filler');
      expect(await fill(filler)).toBeGreaterThan(0);
      // Enough that Postgres needs new pages for the log, the messages and their indexes.
      const written = Array.from({ length: 40 }, (_, i) => a.send(`while full ${i}: ${'field notes '.repeat(300)}`));
      written.push(b.send('while full, from bob'));
      await until('someone is told to try again', () => [...ada.failures(), ...bob.failures()].some((f) => f.code === 'retry'), () => ada.failures(), 30_000);
      // Nothing numbered that was not stored, nobody's work given up, and the node still answers.
      expect([...ada.failures(), ...bob.failures()].filter((f) => f.code !== 'retry')).toEqual([]);
      expect((await fetch(`${node.url}/health`)).status).toBe(200);
      const numbered = history(a).filter((l) => l.seq !== null).length;
      expect(numbered).toBeLessThan(1 + written.length);

      await rm(filler);
      await until(
        'everything is numbered once space is freed, and both agree',
        () => history(a).length === 1 + written.length && numberedOneToN(history(a)) && JSON.stringify(history(a)) === JSON.stringify(history(b)),
        () => ({ a: history(a).length, numbered: history(a).filter((l) => l.seq !== null).length, b: history(b).length, failures: ada.failures().slice(-3) }),
        120_000,
      );
      expect(written.every((id) => history(a).some((l) => l.id === id))).toBe(true);

      // Postgres keeps it through a crash, as a new device sees it.
      await postgres.kill();
      await postgres.restart();
      const fresh = await secondDevice(node.url, bob);
      await until('a new device of bob has every message, 1..N', () => {
        const lines = history(fresh.conversation(id));
        return lines.length === 1 + written.length && numberedOneToN(lines);
      }, undefined, 60_000);
      for (const client of [ada, bob, fresh]) client.close();
      await node.kill();
    } finally {
      await postgres.stop();
      await disk.remove();
    }
  }, 300_000);
});
