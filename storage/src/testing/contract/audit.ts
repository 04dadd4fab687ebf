// The contract of the audit log: events come back newest first, in append order across
// instances, with every filter the administrator's screen offers.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../Storage.ts';
import type { ContractContext } from './context.ts';

const T = 1_700_000_000_000;

function event(overrides: Partial<Omit<AuditRecord, 'id'>> = {}): Omit<AuditRecord, 'id'> {
  return { at: T, kind: 'signIn.succeeded', actor: null, subject: null, details: {}, ...overrides };
}

export function auditContract(context: ContractContext): void {
  describe('audit log', () => {
    it('keeps every event with its details, newest first, ids increasing across instances', async () => {
      const storage = context.storage();
      const second = await context.second();
      const alice = randomUUID();
      const first = await storage.audit.append(event({ actor: alice, subject: 'device-1', details: { address: '10.0.0.1', ok: true, n: 3, none: null } }));
      const then = await second.audit.append(event({ at: T + 1, kind: 'password.changed', actor: alice, subject: alice }));
      const last = await storage.audit.append(event({ at: T + 2, kind: 'signIn.failed', details: { username: 'nobody' } }));
      expect(first).toBeLessThan(then);
      expect(then).toBeLessThan(last);
      const events = await second.audit.list({ limit: 10 });
      expect(events.map((e) => e.kind)).toEqual(['signIn.failed', 'password.changed', 'signIn.succeeded']);
      expect(events[2]).toEqual({
        id: first, at: T, kind: 'signIn.succeeded', actor: alice, subject: 'device-1', details: { address: '10.0.0.1', ok: true, n: 3, none: null },
      });
    });

    it('filters by kinds, by a user as actor or subject, by time, and pages back by id', async () => {
      const storage = context.storage();
      const alice = randomUUID();
      const bob = randomUUID();
      await storage.audit.append(event({ at: T, kind: 'signIn.succeeded', actor: alice }));
      await storage.audit.append(event({ at: T + 10, kind: 'user.deactivated', actor: alice, subject: bob }));
      await storage.audit.append(event({ at: T + 20, kind: 'signIn.failed', actor: bob }));
      await storage.audit.append(event({ at: T + 30, kind: 'signIn.succeeded', actor: bob }));

      const kinds = (records: AuditRecord[]) => records.map((r) => `${r.kind}@${r.at - T}`);
      expect(kinds(await storage.audit.list({ kinds: ['signIn.failed', 'user.deactivated'], limit: 10 }))).toEqual(['signIn.failed@20', 'user.deactivated@10']);
      expect(kinds(await storage.audit.list({ involving: bob, limit: 10 }))).toEqual(['signIn.succeeded@30', 'signIn.failed@20', 'user.deactivated@10']);
      expect(kinds(await storage.audit.list({ involving: alice, kinds: ['signIn.succeeded'], limit: 10 }))).toEqual(['signIn.succeeded@0']);
      expect(kinds(await storage.audit.list({ since: T + 10, until: T + 30, limit: 10 }))).toEqual(['signIn.failed@20', 'user.deactivated@10']);

      const page = await storage.audit.list({ limit: 2 });
      expect(kinds(page)).toEqual(['signIn.succeeded@30', 'signIn.failed@20']);
      const next = await storage.audit.list({ limit: 2, before: page[1]!.id });
      expect(kinds(next)).toEqual(['user.deactivated@10', 'signIn.succeeded@0']);
      expect(await storage.audit.list({ limit: 2, before: next[1]!.id })).toEqual([]);
    });
  });
}
