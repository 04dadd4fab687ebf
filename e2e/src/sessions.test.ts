// Tabs of one signed-in device share a session. Refresh tokens rotate on every use and a token
// presented twice signs the device out, so tabs must never race each other's refresh.
import { afterAll, describe, expect, it } from 'vitest';
import { OutpostClient, type SessionStore } from '@outpost/client';
import type { Session } from '@outpost/shared-schema';
import { backends, freshDatabase, startNode, teardown, until } from './harness.ts';

afterAll(teardown);

describe.each(backends)('sessions on %s', (backend) => {
  it('keeps two tabs of one session signed in through many token rotations', async () => {
    const server = await startNode({ ...(await freshDatabase(backend)), accessTokenTtl: 10 });
    let stored: Session | null = null;
    const saved: string[] = [];
    const store: SessionStore = {
      load: () => stored,
      save: (session) => {
        stored = session;
        saved.push(session.refreshToken);
      },
    };
    const signedIn = await OutpostClient.register({ url: server.url, sessionStore: store }, { username: 'tabs', password: 'correct horse battery' });
    const session = signedIn.session;
    signedIn.close();
    // Two tabs resume the stored session and keep calling the API at the same moments.
    const tabs = [await OutpostClient.resume({ url: server.url, sessionStore: store }, session), await OutpostClient.resume({ url: server.url, sessionStore: store }, session)];
    const started = Date.now();
    while (Date.now() - started < 16_000) {
      const results = await Promise.allSettled(tabs.flatMap((tab) => [tab.fetchConversations(), tab.findUsers('tab')]));
      const failed = results.filter((r) => r.status === 'rejected');
      expect(failed.map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(new Set(saved).size).toBeGreaterThanOrEqual(3); // it did rotate, several times
    await until('both tabs stay connected', () => tabs.every((tab) => tab.status().get() === 'connected'));
    // The device is still signed in: the newest refresh token works.
    const check = await fetch(`${server.url}/api/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: (stored as Session | null)?.refreshToken }),
    });
    expect(check.status).toBe(200);
    for (const tab of tabs) tab.close();
  });
});
