// The node's logs as an operator reads them, from a real node at LOG_LEVEL=debug: one JSON line
// per event, request and connection ids where there is one, and never a password, a token or
// what people wrote.
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { segmentDoc, writeMessage, type MessageId, type UserId } from '@outpost/shared-schema';
import { createLogger } from '@outpost/sync-server';
import { attempt } from './attacker.ts';
import { freshDatabase, signUp, startNode, teardown, until } from './harness.ts';
import { history } from './history.ts';

afterAll(teardown);

describe('logs of a node at work', () => {
  it('carry request, connection, user and document ids, and no secrets or message bodies', async () => {
    let text = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    const server = await startNode({ ...(await freshDatabase('sqlite')), log: createLogger('debug', { destination }) });
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const id = await ada.openDirect(bob.user.id);
    const body = `the gate code is ${crypto.randomUUID()}`;
    ada.conversation(id).send(body);
    await until('bob has the message', () => history(bob.conversation(id)).some((line) => line.body === body && line.seq !== null));
    const forged = await attempt(server.url, segmentDoc(id, 0), ada.session.accessToken, (doc) =>
      writeMessage(doc, crypto.randomUUID() as MessageId, { author: bob.user.id as UserId, createdAt: 1, body: `forged ${body}` }),
    );
    expect(forged.refused).toBe(true);
    const response = await fetch(`${server.url}/api/users/me`, { headers: { authorization: `Bearer ${ada.session.accessToken}`, 'x-request-id': 'req-from-the-proxy' } });
    expect(response.headers.get('x-request-id')).toBe('req-from-the-proxy');
    await until('the refusal is logged', () => text.includes('"msg":"update refused"'));

    const lines = text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.every((line) => typeof line.level === 'string' && typeof line.time === 'string' && typeof line.msg === 'string')).toBe(true);

    const requests = lines.filter((line) => line.msg === 'request');
    expect(requests.find((line) => line.route === '/api/auth/register')).toMatchObject({ method: 'POST', status: 201, requestId: expect.any(String) });
    expect(requests.find((line) => line.requestId === 'req-from-the-proxy')).toMatchObject({ route: '/api/users/me', status: 200, userId: ada.user.id });

    const opened = lines.find((line) => line.msg === 'document opened' && line.document === segmentDoc(id, 0));
    expect(opened).toMatchObject({ connectionId: expect.any(String), userId: expect.any(String) });
    expect(lines.find((line) => line.msg === 'update refused')).toMatchObject({
      connectionId: expect.any(String),
      userId: ada.user.id,
      document: segmentDoc(id, 0),
      code: 'ruleBroken',
    });

    for (const secret of [body, 'correct horse battery', ada.session.accessToken, ada.session.refreshToken]) expect(text).not.toContain(secret);
  });
});
