// Server search end to end, through real nodes on SQLite and on Postgres, driven by the SDK: what
// members write is found by what they may read (a removed member nothing written after the
// removal, nobody a conversation they were never in), edits and deletions reach the index, and
// bad parameters get a 400 that names them.
import { afterAll, describe, expect, it } from 'vitest';
import type { Conversation, OutpostClient } from '@outpost/client';
import type { MessageId, UserId } from '@outpost/shared-schema';
import { backends, freshDatabase, signUp, startNode, teardown, until } from './harness.ts';

afterAll(teardown);

const numbered = (conversation: Conversation, id: MessageId) => () => conversation.messages().get().some((m) => m.id === id && m.seq !== null);

async function found(client: OutpostClient, query: string, options: Parameters<OutpostClient['searchServer']>[1] = {}): Promise<string[]> {
  return (await client.searchServer(query, options)).hits.map((hit) => hit.messageId);
}

describe.each(backends)('server search on %s', (backend) => {
  it('finds what each user may read, follows edits and deletions, and filters', async () => {
    const server = await startNode(await freshDatabase(backend));
    const [ada, bob, cyd] = [await signUp(server.url, 'ada'), await signUp(server.url, 'bob'), await signUp(server.url, 'cyd')];
    const group = await ada.createGroup('site crew', [bob.user.id]);
    const crew = ada.conversation(group);
    const early = crew.send('generator fuel at half');
    await until('the first message is numbered', numbered(crew, early));
    await ada.removeMember(group, bob.user.id);
    const late = crew.send('generator fuel refilled, tank is full');
    await until('the second message is numbered', numbered(crew, late));
    const dm = ada.conversation(await ada.openDirect(cyd.user.id));
    const secret = dm.send('the generator key is in the blue box');
    await until('the DM message is numbered', numbered(dm, secret));

    expect(new Set(await found(ada, 'generator'))).toEqual(new Set([early, late, secret]));
    expect(await found(bob, 'generator')).toEqual([early]);
    expect(await found(bob, 'refilled')).toEqual([]);
    expect(await found(cyd, 'generator')).toEqual([secret]);
    expect(await found(cyd, 'fuel', { conversationId: group })).toEqual([]);

    expect(await found(ada, 'blue bo')).toEqual([]);
    const page = await ada.searchServer('blue box');
    expect(page.hits).toHaveLength(1);
    expect(page.hits[0]).toMatchObject({ messageId: secret, conversationId: dm.id, author: ada.user.id, seq: 1 });
    expect(page.hits[0]!.snippet.filter((part) => part.hit).map((part) => part.text)).toEqual(['blue', 'box']);

    expect(new Set(await found(ada, 'generator', { from: ada.user.id as UserId, conversationId: group }))).toEqual(new Set([late, early]));
    expect(await found(ada, 'generator', { after: Date.now() + 60_000 })).toEqual([]);
    expect(new Set(await found(ada, 'generator', { before: Date.now() + 60_000 }))).toEqual(new Set([early, late, secret]));
    expect(await found(ada, 'generator', { hasFile: true })).toEqual([]);

    crew.edit(late, 'tank topped up');
    await until('the edit reaches the index', async () => (await found(ada, 'topped')).length === 1);
    expect(await found(ada, 'refilled')).toEqual([]);
    dm.delete(secret);
    await until('the deletion reaches the index', async () => (await found(cyd, 'generator')).length === 0);
    expect(await found(ada, 'blue box')).toEqual([]);
  });

  it('answers bad parameters with a 400 that says which and why, and treats query syntax as words', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await signUp(server.url, 'ada');
    const chat = ada.conversation(await ada.createGroup('notes', []));
    const message = chat.send('he said "near" the gate: OR not');
    await until('the message is numbered', numbered(chat, message));
    expect(await found(ada, 'near')).toEqual([message]);

    const session = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: ada.user.username, password: 'correct horse battery' }),
    }).then((response) => response.json() as Promise<{ accessToken: string }>);
    const get = async (query: string) => {
      const response = await fetch(`${server.url}/api/search?${query}`, { headers: { authorization: `Bearer ${session.accessToken}` } });
      return { status: response.status, body: (await response.json()) as { error?: { kind: string; message: string; details?: { issues: { path: string }[] } }; hits?: unknown[] } };
    };
    const bad: [string, string][] = [
      ['', 'q'],
      ['q=', 'q'],
      [`q=${encodeURIComponent('" * - : \' \\ ( )')}`, 'q'],
      [`q=${'a'.repeat(501)}`, 'q'],
      ['q=pump&limit=0', 'limit'],
      ['q=pump&limit=51', 'limit'],
      ['q=pump&limit=ten', 'limit'],
      ['q=pump&offset=-1', 'offset'],
      ['q=pump&before=yesterday', 'before'],
      ['q=pump&after=2026-13-45', 'after'],
      ['q=pump&after=2026-03-02&before=2026-03-01', 'after'],
      ['q=pump&conversation=general', 'conversation'],
      ['q=pump&from=bob', 'from'],
      ['q=pump&has=photo', 'has'],
      ['q=pump&sort=new', ''],
    ];
    for (const [query, path] of bad) {
      const answer = await get(query);
      expect(answer.status, query).toBe(400);
      expect(answer.body.error?.kind, query).toBe('invalidInput');
      expect(answer.body.error?.details?.issues.map((issue) => issue.path), query).toContain(path);
      expect(answer.body.error?.message, query).toMatch(/^bad search: /);
    }
    await expect(ada.searchServer('"')).rejects.toMatchObject({ kind: 'invalidInput' });
    for (const hostile of ['"near', 'NEAR(gate', 'OR', "gate' OR 1=1 --", 'gate:*', '-gate', 'near" OR "x']) {
      const answer = await get(`q=${encodeURIComponent(hostile)}`);
      expect(answer.status, hostile).toBe(200);
    }
    expect(await found(ada, 'NEAR(gate')).toEqual([message]);
    expect(await found(ada, 'OR')).toEqual([message]);
    expect(await found(ada, 'near" OR "x')).toEqual([]);
    expect((await get('q=gate&after=2020-01-01&before=2100-01-01T00:00:00Z&limit=5&offset=0&has=file')).status).toBe(200);
    expect((await fetch(`${server.url}/api/search?q=gate`)).status).toBe(401);
  });
});
