// Hostile requests to every HTTP route of a real node, on SQLite and on Postgres: a seeded
// generator fills paths, query strings and bodies with what no client sends (wrong types, broken
// JSON, ids that are not ids, NUL bytes, 10,000-character strings, deep nesting) as a signed-in
// user: odd seeds as a member who is not an administrator, even ones as the server administrator.
// Every answer must be a success or a clear refusal, never a 5xx, and every 4xx a JSON body naming
// the kind of error and what to do. Afterwards the node answers, and a direct conversation is as
// its members left it.
//
// SEED=n replays one seed (the failure prints the requests that failed).
import { afterAll, describe, expect, it } from 'vitest';
import { backends, freshDatabase, random, seeds, startNode, teardown } from './harness.ts';

afterAll(teardown);

type Rng = ReturnType<typeof random>;

const REQUESTS = Number(process.env.REQUESTS ?? 600);

/** Every route, as its method and path template (`:name` is a path parameter). */
const ROUTES: readonly [string, string][] = [
  ['POST', '/api/auth/register'],
  ['POST', '/api/auth/login'],
  ['POST', '/api/auth/refresh'],
  ['POST', '/api/auth/reset'],
  ['POST', '/api/auth/logout'],
  ['GET', '/api/users/me'],
  ['GET', '/api/users/me/export'],
  ['POST', '/api/users/me/erase'],
  ['GET', '/api/account'],
  ['GET', '/api/account/devices'],
  ['DELETE', '/api/account/devices/:id'],
  ['POST', '/api/account/password'],
  ['GET', '/api/account/two-factor'],
  ['POST', '/api/account/two-factor'],
  ['POST', '/api/account/two-factor/confirm'],
  ['POST', '/api/account/two-factor/disable'],
  ['GET', '/api/admin/users'],
  ['POST', '/api/admin/users/:id/deactivate'],
  ['POST', '/api/admin/users/:id/password-reset'],
  ['GET', '/api/admin/stats'],
  ['GET', '/api/admin/audit'],
  ['GET', '/api/admin/reports'],
  ['POST', '/api/admin/reports/:id/resolve'],
  ['GET', '/api/users'],
  ['POST', '/api/conversations'],
  ['GET', '/api/conversations'],
  ['GET', '/api/conversations/:id'],
  ['GET', '/api/conversations/:id/messages/:messageId'],
  ['PATCH', '/api/conversations/:id'],
  ['POST', '/api/conversations/:id/members'],
  ['PATCH', '/api/conversations/:id/members/:userId'],
  ['DELETE', '/api/conversations/:id/members/:userId'],
  ['PUT', '/api/conversations/:id/posting'],
  ['POST', '/api/conversations/:id/reports'],
  ['GET', '/api/search'],
  ['GET', '/api/files/limits'],
  ['PUT', '/api/conversations/:id/files/:fileId'],
  ['GET', '/api/conversations/:id/files/:fileId'],
  ['GET', '/api/conversations/:id/files/:fileId/:variant'],
  ['GET', '/api/nowhere/:id'],
];

/** Field names the routes read, so that generated bodies reach past the first check. */
const FIELDS = ['userId', 'memberIds', 'username', 'password', 'displayName', 'refreshToken', 'code', 'token', 'newPassword', 'currentPassword', 'kind', 'title', 'userIds', 'members', 'role', 'posting', 'messageId', 'reason', 'q', 'conversation', 'from', 'before', 'after', 'has', 'offset', 'limit', 'open', 'name'];

const NASTY_STRINGS = ['', ' ', 'x', 'null', '-1', '0', '1e309', 'NaN', '..', '../..', '%00', '\u0000', 'a\u0000b', '💥', 'é'.repeat(300), 'x'.repeat(10_000), "' OR 1=1 --", '"', '\\', '<script>', '\ud800', 'admin', 'owner'];

function nastyString(rng: Rng, ids: readonly string[]): string {
  const roll = rng.next();
  if (roll < 0.3) return rng.pick(ids);
  if (roll < 0.4) return crypto.randomUUID();
  if (roll < 0.45) return rng.pick(ids).toUpperCase();
  return rng.pick(NASTY_STRINGS);
}

function nastyValue(rng: Rng, ids: readonly string[], depth = 0): unknown {
  const roll = rng.int(depth > 2 ? 6 : 9);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return rng.next() < 0.5;
    case 2:
      return rng.pick([0, -1, 1.5, 2 ** 53 + 1, 1e308, -1e308, 20, 300, 1_000_000]);
    case 3:
    case 4:
    case 5:
      return nastyString(rng, ids);
    case 6:
      return Array.from({ length: rng.int(4) }, () => nastyValue(rng, ids, depth + 1));
    case 7:
      return Array.from({ length: rng.pick([0, 1, 400]) }, () => rng.pick(ids));
    default:
      return nastyObject(rng, ids, depth + 1);
  }
}

function nastyObject(rng: Rng, ids: readonly string[], depth = 0): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (let i = rng.int(5); i > 0; i--) object[rng.next() < 0.85 ? rng.pick(FIELDS) : nastyString(rng, ids)] = nastyValue(rng, ids, depth);
  return object;
}

/** A body as bytes on the wire: JSON of any shape, broken JSON, or none. */
function nastyBody(rng: Rng, ids: readonly string[]): { text?: string; type?: string } {
  const roll = rng.next();
  if (roll < 0.1) return {};
  if (roll < 0.2) return { text: rng.pick(['{', '{"a":', '[1,2', 'null', '"x"', '12', 'not json', '{"__proto__":{"x":1}}', '\u0000']), type: 'application/json' };
  if (roll < 0.25) return { text: JSON.stringify(nastyObject(rng, ids)), type: 'text/plain' };
  if (roll < 0.3) return { text: JSON.stringify(Array.from({ length: 30 }).reduce((inner) => ({ a: inner }), {})), type: 'application/json' };
  return { text: JSON.stringify(rng.next() < 0.9 ? nastyObject(rng, ids) : nastyValue(rng, ids)), type: 'application/json' };
}

/** `value` as a URL component; a lone surrogate (not encodable) goes as the bytes it would be in UTF-8, which are not UTF-8. */
function component(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return '%ED%A0%80';
  }
}

function nastyPath(rng: Rng, template: string, ids: readonly string[]): string {
  const path = template.replace(/:[a-zA-Z]+/g, () => {
    const value = rng.next() < 0.15 ? rng.pick(['thumb', 'original', 'preview', 'x']) : nastyString(rng, ids);
    return component(value).slice(0, 3000);
  });
  if (rng.next() < 0.5) return path;
  const query = Array.from({ length: 1 + rng.int(4) }, () => `${component(rng.pick(FIELDS))}=${component(nastyString(rng, ids).slice(0, 2000))}`);
  return `${path}?${query.join('&')}`;
}

interface Account {
  accessToken: string;
  refreshToken: string;
  user: { id: string };
}

describe.each(backends)('hostile HTTP requests on %s', (backend) => {
  it.each(seeds([1, 2]))('seed %i: every answer is a success or a clear refusal, never a server error', async (seed) => {
    const rng = random(seed);
    const server = await startNode(await freshDatabase(backend));
    const call = async (method: string, path: string, token?: string, body: { text?: string; type?: string } = {}) => {
      const headers: Record<string, string> = {};
      if (body.type) headers['content-type'] = body.type;
      if (token) headers.authorization = `Bearer ${token}`;
      const response = await fetch(server.url + path, { method, headers, ...(body.text !== undefined && method !== 'GET' ? { body: body.text } : {}) });
      const text = await response.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: response.status, json, text };
    };
    const register = async (username: string): Promise<Account> => {
      const answer = await call('POST', '/api/auth/register', undefined, { text: JSON.stringify({ username, password: 'long enough password' }), type: 'application/json' });
      expect(answer.status, answer.text).toBe(201);
      return answer.json as Account;
    };
    // The first account is the administrator; eve, who sends everything, is not.
    const ada = await register('ada');
    const bob = await register('bob');
    const eve = await register('eve');
    const json = (value: unknown) => ({ text: JSON.stringify(value), type: 'application/json' });
    const direct = (await call('POST', '/api/conversations', ada.accessToken, json({ kind: 'dm', userId: bob.user.id }))).json as { id: string };
    const own = (await call('POST', '/api/conversations', eve.accessToken, json({ kind: 'group', title: 'eve’s', memberIds: [bob.user.id] }))).json as { id: string };
    expect(direct.id).toBeTruthy();
    expect(own.id).toBeTruthy();
    const before = await call('GET', `/api/conversations/${direct.id}`, ada.accessToken);
    const ids = [ada.user.id, bob.user.id, eve.user.id, direct.id, own.id];

    // Odd seeds send as eve, a member; even ones as ada, the server administrator (every route open to her).
    const sender = seed % 2 === 0 ? { account: ada, username: 'ada' } : { account: eve, username: 'eve' };
    let token = sender.account.accessToken;
    const failures: string[] = [];
    const attempt = async (method: string, path: string, body: { text?: string; type?: string }, as = token) => {
      const answer = await call(method, path, as, body);
      const error = (answer.json as { error?: { kind?: unknown; message?: unknown } } | undefined)?.error;
      const clear = answer.status < 400 || (typeof error?.kind === 'string' && typeof error.message === 'string' && error.message.length > 0);
      if (answer.status >= 500 || !clear) failures.push(`${method} ${path.slice(0, 200)} ${(body.text ?? '').slice(0, 200)} → ${answer.status} ${answer.text.slice(0, 300)}`);
      // The sender may sign herself out: she signs in again and goes on.
      if (answer.status === 401 && token === sender.account.accessToken) {
        const again = await call('POST', '/api/auth/login', undefined, json({ username: sender.username, password: 'long enough password' }));
        if (again.status === 200) token = sender.account.accessToken = (again.json as Account).accessToken;
      }
    };
    // First every route with the NUL character in each part of its address, one at a time.
    for (const [method, template] of ROUTES) {
      const valid = template.replace(/:[a-zA-Z]+/g, direct.id);
      const addresses = [...template.matchAll(/:[a-zA-Z]+/g)].map((param) => template.replace(param[0], 'a%00b').replace(/:[a-zA-Z]+/g, direct.id));
      for (const path of [...addresses, `${valid}?q=a%00b`]) await attempt(method, path, method === 'GET' ? {} : json({}));
    }
    for (let i = 0; i < REQUESTS; i++) {
      const [method, template] = rng.pick(ROUTES);
      const body = method === 'GET' ? {} : nastyBody(rng, ids);
      await attempt(method, nastyPath(rng, template, ids), body, rng.next() < 0.05 ? rng.pick(['', 'x.y.z', ada.refreshToken]) : token);
    }
    expect(failures, `seed ${seed}: replay with SEED=${seed} npx vitest run e2e/src/apiFuzz.test.ts`).toEqual([]);

    // The node still answers, and ada and bob's conversation is as they left it.
    expect((await call('GET', '/health')).json).toEqual({ ok: true });
    const after = await call('GET', `/api/conversations/${direct.id}`, ada.accessToken);
    expect(after.status).toBe(200);
    expect(after.json).toEqual(before.json);
  }, 180_000);
});
