// Keeps `npm run bench -- server` working: a tiny run of the whole scenario (three servers as child
// processes, two generator processes, every phase, the check after each run; then Outpost on one
// node and on two over a throwaway Postgres and redis-server). It asserts that everything was
// measured and every message checked out, never how fast anything was.
import { describe, expect, it } from 'vitest';
import { serverLoad } from './serverLoad.ts';
import { plans } from './serverLoadPlan.ts';

describe('the server load bench scenario', () => {
  it('measures the raw relay, plain Hocuspocus and Outpost, then Outpost on one node and two, and checks every message', async () => {
    const printed: string[] = [];
    const plan = plans.tiny;
    const outcome = await serverLoad(plan, { log: () => undefined, print: (line) => printed.push(line) });

    expect(outcome.results.map((r) => r.key)).toEqual(['relay', 'hocuspocus', 'outpost']);
    for (const result of outcome.results) {
      expect({ server: result.key, failure: result.failure, problems: result.correctness.problems }).toEqual({ server: result.key, failure: null, problems: [] });
      expect(result.idle?.connections).toBe(plan.idleClients);
      expect(result.steady?.sent).toBeGreaterThan(0);
      expect(result.steady?.deliver.count).toBeGreaterThan(0);
      expect(result.steady?.bytesPerMessage).toBeGreaterThan(0);
      expect(result.steps.length).toBeGreaterThan(0);
      expect(result.closed?.ack.count).toBeGreaterThan(0);
      expect(result.health?.probes).toBeGreaterThan(0);
      expect(result.correctness.checked).toBe(true);
    }
    // Outpost's storage was read after the node stopped and holds every message as acknowledged.
    const outpost = outcome.results[2];
    expect(outpost?.correctness.stored).toBe(outpost?.correctness.messages);
    expect(outcome.sqlite.rates.every((r) => r.perSecond > 0)).toBe(true);
    expect(printed.join('\n')).toMatch(/raw ws relay .* plain Hocuspocus 4 .* Outpost/);
    expect(printed.join('\n')).toContain('Targets (issue 9)');

    // The two-node run: one node, then two, the same clients; every message checked and stored.
    const cluster = outcome.cluster;
    // Each run's failure and the check's problems first, so a failed run says why.
    expect({ failure: cluster?.failure, runs: cluster?.runs.map((r) => ({ nodes: r.nodes, failure: r.failure })), problems: cluster?.correctness.problems }).toEqual({
      failure: null,
      runs: [
        { nodes: 1, failure: null },
        { nodes: 2, failure: null },
      ],
      problems: [],
    });
    expect(cluster?.correctness.checked).toBe(true);
    // Both runs' messages (warm-ups and steady phases), each group numbered 1..N over both.
    expect(cluster?.correctness.messages).toBeGreaterThan((cluster?.runs ?? []).reduce((n, r) => n + (r.steady?.sent ?? 0), 0));
    expect(cluster?.correctness.stored).toBe(cluster?.correctness.messages);
    for (const run of cluster?.runs ?? []) {
      // Postgres and Redis carried the messages, and their counters were read.
      expect(run.steady?.sent).toBeGreaterThan(0);
      expect(run.load?.postgres.commits).toBeGreaterThan(0);
      expect(run.load?.postgres.walBytes).toBeGreaterThan(0);
      expect(run.load?.redis.commands).toBeGreaterThan(0);
    }
    const [one, two] = cluster?.runs ?? [];
    expect(one?.steady?.deliverCrossNode.count).toBe(0);
    expect(two?.steady?.deliverSameNode.count).toBeGreaterThan(0);
    expect(two?.steady?.deliverCrossNode.count).toBeGreaterThan(0);
    expect(printed.join('\n')).toContain('Target (issue 10)');
    expect(outcome.ok).toBe(true);
  }, 300_000);
});
