// The HTTP API through a real server: sign-up, login, refresh rotation and reuse, logout,
// people search, DMs and groups, members, and the error shape, on SQLite and on Postgres.
import { afterAll, describe, expect, it } from 'vitest';
import { backends, freshDatabase, startNode, teardown } from './harness.ts';

afterAll(teardown);

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function api(base: string) {
  return async (method: string, path: string, body?: unknown, token?: string): Promise<Reply> => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
}

describe.each(backends)('HTTP API on %s', (backend) => {
  it('registers, logs in, rotates refresh tokens, revokes a reused family, and logs out', async () => {
    const server = await startNode(await freshDatabase(backend));
    const call = api(server.url);
    const registered = await call('POST', '/api/auth/register', { username: 'ada', password: 'long enough password', displayName: 'Ada L.' });
    expect(registered.status).toBe(201);
    expect(registered.body.user).toMatchObject({ username: 'ada', displayName: 'Ada L.' });

    const taken = await call('POST', '/api/auth/register', { username: 'ada', password: 'another password' });
    expect(taken).toMatchObject({ status: 409, body: { error: { kind: 'conflict' } } });
    const wrong = await call('POST', '/api/auth/login', { username: 'ada', password: 'wrong password' });
    expect(wrong).toMatchObject({ status: 401, body: { error: { kind: 'unauthorized' } } });
    const login = await call('POST', '/api/auth/login', { username: 'ada', password: 'long enough password' });
    expect(login.status).toBe(200);

    const me = await call('GET', '/api/users/me', undefined, login.body.accessToken);
    expect(me.body).toMatchObject({ id: registered.body.user.id, username: 'ada' });

    const rotated = await call('POST', '/api/auth/refresh', { refreshToken: login.body.refreshToken });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).not.toBe(login.body.refreshToken);
    expect(rotated.body.deviceId).toBe(login.body.deviceId); // the session is the device

    // Reusing the old token revokes the whole family, including the newest token.
    const reused = await call('POST', '/api/auth/refresh', { refreshToken: login.body.refreshToken });
    expect(reused).toMatchObject({ status: 401, body: { error: { kind: 'unauthorized' } } });
    expect((await call('POST', '/api/auth/refresh', { refreshToken: rotated.body.refreshToken })).status).toBe(401);

    // Logout revokes: the refresh token stops working.
    expect((await call('POST', '/api/auth/logout', { refreshToken: registered.body.refreshToken })).status).toBe(204);
    expect((await call('POST', '/api/auth/refresh', { refreshToken: registered.body.refreshToken })).status).toBe(401);
  });

  it('answers bad input and missing auth with a clear error kind', async () => {
    const server = await startNode(await freshDatabase(backend));
    const call = api(server.url);
    const bad = await call('POST', '/api/auth/register', { username: 'A', password: 'short' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.kind).toBe('invalidInput');
    expect([...new Set(bad.body.error.details.issues.map((i: { path: string }) => i.path))].sort()).toEqual(['password', 'username']);
    const notJson = await fetch(`${server.url}/api/auth/login`, { method: 'POST', body: '{nope' });
    expect(notJson.status).toBe(400);
    expect((await call('GET', '/api/conversations')).body.error.kind).toBe('unauthorized');
    expect((await call('GET', '/api/conversations', undefined, 'not.a.jwt')).status).toBe(401);
    const someone = (await call('POST', '/api/auth/register', { username: 'someone', password: 'long enough password' })).body;
    expect(await call('GET', '/api/nowhere', undefined, someone.accessToken)).toMatchObject({ status: 404, body: { error: { kind: 'notFound' } } });
    expect((await call('GET', '/health')).body).toEqual({ ok: true });
  });

  it('sends security headers and keeps CORS closed unless an origin is configured', async () => {
    const closed = await startNode(await freshDatabase(backend));
    const preflight = (url: string) =>
      fetch(`${url}/api/auth/login`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    const health = await fetch(`${closed.url}/health`);
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');
    expect(health.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect((await preflight(closed.url)).headers.get('access-control-allow-origin')).toBeNull();

    const open = await startNode({ ...(await freshDatabase(backend)), corsOrigins: 'https://app.example' });
    const allowed = await fetch(`${open.url}/api/auth/login`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect((await preflight(open.url)).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('slows down password guessing with a clear rateLimited error and a retry time', async () => {
    const server = await startNode(await freshDatabase(backend));
    const call = api(server.url);
    await call('POST', '/api/auth/register', { username: 'target', password: 'long enough password' });
    await call('POST', '/api/auth/register', { username: 'bystander', password: 'long enough password' });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await call('POST', '/api/auth/login', { username: 'target', password: `guess ${i}` })).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    const limited = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'target', password: 'long enough password' }),
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = await limited.json();
    expect(body.error).toMatchObject({ kind: 'rateLimited', details: { retryAfterMs: expect.any(Number) } });
    // Someone else signs in fine.
    expect((await call('POST', '/api/auth/login', { username: 'bystander', password: 'long enough password' })).status).toBe(200);
  });

  it('limits sign-ups per address, as many a minute as AUTH_ATTEMPTS_PER_ADDRESS says', async () => {
    const server = await startNode({ ...(await freshDatabase(backend)), authAttemptsPerAddress: 3 });
    const call = api(server.url);
    const statuses: number[] = [];
    for (const name of ['one', 'two', 'three', 'four']) statuses.push((await call('POST', '/api/auth/register', { username: name, password: 'long enough password' })).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
  });

  it('behind a trusted proxy (TRUST_PROXY), limits each client by the address the proxy forwarded, and ignores that header from anyone else', async () => {
    const register = (url: string, username: string, forwardedFor: string) =>
      fetch(`${url}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
        body: JSON.stringify({ username, password: 'long enough password' }),
      }).then((response) => response.status);
    // The test is the proxy, on loopback: a load balancer in front of the nodes.
    const behind = await startNode({ ...(await freshDatabase(backend)), authAttemptsPerAddress: 2, env: { TRUST_PROXY: 'loopback' } });
    expect([await register(behind.url, 'ann1', '203.0.113.7'), await register(behind.url, 'ann2', '203.0.113.7'), await register(behind.url, 'ann3', '203.0.113.7')]).toEqual([201, 201, 429]);
    // Another client behind the same proxy has its own limit; a spoofed entry before the proxy's is not believed.
    expect(await register(behind.url, 'bea1', '203.0.113.9')).toBe(201);
    expect(await register(behind.url, 'ann4', '198.51.100.1, 203.0.113.7')).toBe(429);
    // Without TRUST_PROXY the header is anyone's to write, so it changes nothing.
    const direct = await startNode({ ...(await freshDatabase(backend)), authAttemptsPerAddress: 2 });
    expect([await register(direct.url, 'cal1', '192.0.2.1'), await register(direct.url, 'cal2', '192.0.2.2'), await register(direct.url, 'cal3', '192.0.2.3')]).toEqual([201, 201, 429]);
  });

  it('finds people, opens DMs idempotently, creates groups and changes members', async () => {
    const server = await startNode(await freshDatabase(backend));
    const call = api(server.url);
    const [ada, bob, cy, dan] = await Promise.all(
      ['ada', 'bob', 'cyd', 'dan'].map(async (name) => (await call('POST', '/api/auth/register', { username: name, password: 'long enough password' })).body),
    );
    const found = await call('GET', '/api/users?q=bo', undefined, ada.accessToken);
    expect(found.body.users.map((u: { username: string }) => u.username)).toEqual(['bob']);

    const dm = await call('POST', '/api/conversations', { kind: 'dm', userId: bob.user.id }, ada.accessToken);
    expect(dm.status).toBe(201);
    const again = await call('POST', '/api/conversations', { kind: 'dm', userId: ada.user.id }, bob.accessToken);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(dm.body.id);
    expect((await call('POST', '/api/conversations', { kind: 'dm', userId: ada.user.id }, ada.accessToken)).status).toBe(400);

    const group = await call('POST', '/api/conversations', { kind: 'group', title: 'Field team', memberIds: [bob.user.id] }, ada.accessToken);
    expect(group.status).toBe(201);
    expect(group.body.members).toEqual(
      expect.arrayContaining([{ userId: ada.user.id, role: 'owner' }, { userId: bob.user.id, role: 'member' }]),
    );
    const gid = group.body.id;
    // A plain member may not add people; the owner may.
    expect((await call('POST', `/api/conversations/${gid}/members`, { userIds: [cy.user.id] }, bob.accessToken)).body.error.kind).toBe('forbidden');
    const added = await call('POST', `/api/conversations/${gid}/members`, { userIds: [cy.user.id, dan.user.id] }, ada.accessToken);
    expect(added.body.members).toHaveLength(4);
    // Outsiders cannot see it, and cannot tell it exists.
    const outsider = (await call('POST', '/api/auth/register', { username: 'eve', password: 'long enough password' })).body;
    expect((await call('GET', `/api/conversations/${gid}`, undefined, outsider.accessToken)).status).toBe(404);

    // Only the owner changes roles; an admin may then remove members.
    expect((await call('PATCH', `/api/conversations/${gid}/members/${bob.user.id}`, { role: 'admin' }, bob.accessToken)).body.error.kind).toBe('forbidden');
    expect((await call('PATCH', `/api/conversations/${gid}/members/${bob.user.id}`, { role: 'owner' }, ada.accessToken)).body.error.kind).toBe('invalidInput');
    expect((await call('PATCH', `/api/conversations/${gid}/members/${bob.user.id}`, { role: 'admin' }, ada.accessToken)).status).toBe(204);
    expect((await call('GET', `/api/conversations/${gid}`, undefined, bob.accessToken)).body.members).toContainEqual({ userId: bob.user.id, role: 'admin' });
    expect((await call('DELETE', `/api/conversations/${gid}/members/${cy.user.id}`, undefined, bob.accessToken)).status).toBe(204);
    expect((await call('PATCH', `/api/conversations/${gid}/members/${bob.user.id}`, { role: 'member' }, ada.accessToken)).status).toBe(204);
    expect((await call('PATCH', `/api/conversations/${gid}`, { title: 'renamed' }, bob.accessToken)).body.error.kind).toBe('forbidden');
    expect((await call('PATCH', `/api/conversations/${gid}`, { title: '  ' }, ada.accessToken)).body.error.kind).toBe('invalidInput');
    expect((await call('PATCH', `/api/conversations/${gid}`, { title: 'Field team east' }, ada.accessToken)).body.title).toBe('Field team east');
    expect((await call('PATCH', `/api/conversations/${dm.body.id}`, { title: 'no' }, ada.accessToken)).body.error.kind).toBe('invalidInput');
    expect((await call('DELETE', `/api/conversations/${gid}/members/${dan.user.id}`, undefined, dan.accessToken)).status).toBe(204); // leave
    expect((await call('DELETE', `/api/conversations/${gid}/members/${ada.user.id}`, undefined, bob.accessToken)).body.error.kind).toBe('forbidden');
    const listed = await call('GET', '/api/conversations', undefined, bob.accessToken);
    expect(listed.body.conversations.map((c: { id: string }) => c.id).sort()).toEqual([dm.body.id, gid].sort());
    expect((await call('GET', '/api/conversations', undefined, cy.accessToken)).body.conversations).toEqual([]);
  });
});
