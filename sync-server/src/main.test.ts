// The node as an operator starts it: `node sync-server/src/main.ts` in a folder with a .env file.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const dirs: string[] = [];

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function folderWithEnv(lines: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-main-'));
  dirs.push(dir);
  await writeFile(path.join(dir, '.env'), `${lines.join('\n')}\n`);
  return dir;
}

/** Starts the node in `cwd`; resolves with its output once it listens (then stops it) or exits. */
function run(cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Only what a shell would pass on: no PORT or HOST from the test runner's environment.
  const child = spawn(process.execPath, [main], { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('Outpost is listening') && !child.killed) child.kill('SIGTERM');
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(deadline);
      resolve({ code, stdout, stderr });
    }),
  );
}

function listening(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const portOf = (server: Server) => (server.address() as { port: number }).port;

describe('starting a node', () => {
  it('reads .env from the working directory, and a busy port says what to do instead of a stack trace', async () => {
    const blocker = await listening();
    const port = portOf(blocker);
    const cwd = await folderWithEnv([`PORT=${port}`, 'HOST=127.0.0.1', 'DATA_DIR=./data', 'LOG_LEVEL=info']);
    try {
      const busy = await run(cwd);
      expect(busy.code).toBe(1);
      expect(busy.stderr.trim()).toBe(`outpost: port ${port} is in use: set PORT=… to a free port (or stop what is using it)`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }

    const started = await run(cwd);
    expect(started.code).toBe(0);
    expect(started.stdout).toContain(`"url":"http://127.0.0.1:${port}"`);
    expect(started.stdout).toContain(`"settings":${JSON.stringify(path.join(cwd, '.env'))}`);
  });

  it('lets the environment win over .env, and names a bad setting from either', async () => {
    const cwd = await folderWithEnv(['PORT=1', 'DATA_DIR=./data', 'LOG_LEVEL=info']);
    const started = await run(cwd, { PORT: '0' });
    expect(started.code).toBe(0);
    expect(started.stdout).not.toContain(':1"');

    const bad = await run(await folderWithEnv(['PORT=eighty']));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('outpost: bad setting: PORT="eighty" is not valid');
  });
});
