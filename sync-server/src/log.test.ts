import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, withContext } from './log.ts';

function capture(): { stream: Writable & { write(chunk: string): boolean }; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('writes one JSON line per event with level, ISO time, message and fields, at LOG_LEVEL and above', () => {
    const out = capture();
    const log = createLogger('info', { destination: out.stream });
    log.debug('not shown');
    log.info('Outpost is listening', { url: 'http://127.0.0.1:3000' });
    log.error('a commit failed', { document: 'conv:x:0', error: new Error('disk full') });
    const [listening, failed, ...rest] = out.lines();
    expect(rest).toEqual([]);
    expect(listening).toMatchObject({ level: 'info', msg: 'Outpost is listening', url: 'http://127.0.0.1:3000' });
    expect(new Date(listening?.time as string).toISOString()).toBe(listening?.time);
    expect(failed).toMatchObject({ level: 'error', document: 'conv:x:0', error: { type: 'Error', message: 'disk full' } });
  });

  it('never writes secrets or what people wrote, even when a caller passes them', () => {
    const out = capture();
    const log = createLogger('debug', { destination: out.stream });
    log.warn('login', { password: 'hunter2hunter2', request: { refreshToken: 'rt-123', body: 'a private message' }, authorization: 'Bearer abc' });
    const text = JSON.stringify(out.lines());
    for (const secret of ['hunter2hunter2', 'rt-123', 'a private message', 'Bearer abc']) expect(text).not.toContain(secret);
    expect(out.lines()[0]).toMatchObject({ password: '[redacted]', request: { refreshToken: '[redacted]', body: '[redacted]' } });
  });

  it('adds a context (request, connection, user, document) to every line', () => {
    const out = capture();
    const log = withContext(createLogger('debug', { destination: out.stream }), { requestId: 'r-1', userId: 'u-1' });
    log.info('one');
    log.warn('two', { document: 'user:u-1' });
    expect(out.lines()).toEqual([
      expect.objectContaining({ msg: 'one', requestId: 'r-1', userId: 'u-1' }),
      expect.objectContaining({ msg: 'two', requestId: 'r-1', userId: 'u-1', document: 'user:u-1' }),
    ]);
  });

  it('prints readable lines, not JSON, for a person at a terminal', () => {
    const script = `import('./log.ts').then(({ createLogger }) => createLogger('info', { pretty: true }).info('Outpost is listening', { url: 'http://127.0.0.1:3000' }))`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: import.meta.dirname, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/INFO.*Outpost is listening/);
    expect(run.stdout).toContain('http://127.0.0.1:3000');
    expect(run.stdout.trim().startsWith('{')).toBe(false);
  });

  it('routes what libraries print on the console through the logger, one line each', () => {
    const script = `import('./log.ts').then(({ createLogger, routeConsole }) => {
      routeConsole(createLogger('info', { pretty: false }));
      console.error('closing connection abc (while handling conv:x:0) because of exception', new Error('forbidden[ruleBroken]'));
      console.warn('a library warns', { detail: 1 });
      console.error('a library failed', new Error('boom'));
    })`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: import.meta.dirname, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    // Hocuspocus's note of a refusal the write path logged already is kept for debug.
    expect(lines).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'a library warns { detail: 1 }', source: 'console' }),
      expect.objectContaining({ level: 'error', msg: 'a library failed', error: expect.objectContaining({ message: 'boom' }) }),
    ]);
  });
});
