// deploy/: the Grafana dashboard and the Prometheus alert rules name only metrics a node exports
// (a renamed metric would leave an empty panel or an alert that never fires), and the dashboard
// shows every Outpost metric.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { metrics } from './metrics.ts';

const deploy = path.resolve(import.meta.dirname, '../../deploy');
const dashboard = JSON.parse(readFileSync(path.join(deploy, 'grafana/outpost-dashboard.json'), 'utf8')) as {
  panels: { type: string; title: string; targets?: { expr: string }[] }[];
  templating: { list: { query?: unknown }[] };
};
const rules = parse(readFileSync(path.join(deploy, 'prometheus/alerts.yml'), 'utf8')) as {
  groups: { name: string; rules: { alert: string; expr: string; for?: string; labels?: { severity?: string }; annotations?: { summary?: string } }[] }[];
};

/** Every series name a node exports: metric names, and a histogram's _bucket, _sum and _count. */
async function exported(): Promise<Set<string>> {
  const names = new Set<string>();
  const all = [...(await metrics.registry.getMetricsAsJSON()).map((m) => ({ name: m.name, type: String(m.type) })), { name: 'outpost_redis_up', type: 'gauge' }];
  for (const { name, type } of all) {
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

/** Metric names in a PromQL expression: our prefixes, and Prometheus' own `up`. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b((?:outpost|process|nodejs)_[a-z0-9_]+|up)\b(?=\s*[{[)]|\s*$|\s*[=<>!])/g)].map((match) => match[1] as string);
}

function balanced(expr: string): boolean {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (const char of expr.replace(/"[^"]*"/g, '""')) {
    if ('([{'.includes(char)) stack.push(char);
    else if (char in pairs && stack.pop() !== pairs[char]) return false;
  }
  return stack.length === 0;
}

const dashboardExprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr })));
const ruleExprs = rules.groups.flatMap((group) => group.rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr })));

describe('deploy/', () => {
  it('names only metrics that exist, in well-formed expressions', async () => {
    const names = await exported();
    const builtIn = new Set(['up']);
    for (const { where, expr } of [...dashboardExprs, ...ruleExprs]) {
      expect(balanced(expr), `${where}: ${expr}`).toBe(true);
      const used = metricNames(expr);
      expect(used.length, `${where} names no metric: ${expr}`).toBeGreaterThan(0);
      for (const name of used) expect(names.has(name) || builtIn.has(name), `${where} uses ${name}, which no node exports`).toBe(true);
    }
  });

  it('shows every Outpost metric on the dashboard', async () => {
    const used = new Set(dashboardExprs.flatMap(({ expr }) => metricNames(expr)).map((name) => name.replace(/_(bucket|sum|count)$/, '')));
    const ours = [...(await exported())].filter((name) => name.startsWith('outpost_') && !/_(bucket|sum|count)$/.test(name));
    expect(ours.filter((name) => !used.has(name))).toEqual([]);
  });

  it('gives every alert a duration, a severity and a summary', () => {
    const alerts = rules.groups.flatMap((group) => group.rules);
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    for (const rule of alerts) {
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(['page', 'warn'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
    }
  });
});
