// The contract for server search: a user finds messages of the conversations they are in, and
// of the ones they left only up to when they left, never of others; the index follows edits,
// deletions and files; filters, ranking, snippets and paging; and what a user types is words,
// never query syntax, whatever it contains.
import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ConversationId, MessageId, UserId } from '@outpost/shared-schema';
import { RANKED_WINDOW } from '../../Search.ts';
import type { ConversationRecord, MessageState, NewFile, NewMessage, SearchPage, SearchQuery, Storage, UserRecord } from '../../Storage.ts';
import { accepted, commitOne, createGroup, createUsers, newMessage, NOW, numberingWrite, versionOf, type ContractContext } from './context.ts';

/** Numbers `list` in one commit received at `now`. */
async function number(storage: Storage, conversation: ConversationRecord, list: readonly NewMessage[], now = NOW): Promise<void> {
  const write = numberingWrite(conversation.id, 0, list);
  accepted(await commitOne(storage.log, { ...write, base: await versionOf(storage.log, write.doc) }, now));
}

async function say(storage: Storage, conversation: ConversationRecord, author: UserRecord, body: string, now = NOW): Promise<NewMessage> {
  const message = newMessage(author, 0, body);
  await number(storage, conversation, [message], now);
  return message;
}

async function find(storage: Storage, user: UserRecord, text: string, filters: Partial<SearchQuery> = {}): Promise<SearchPage> {
  return storage.search.search({ userId: user.id, text, offset: 0, limit: 20, ...filters });
}

/** The bodies' ids found, best first. */
async function ids(storage: Storage, user: UserRecord, text: string, filters: Partial<SearchQuery> = {}): Promise<string[]> {
  return (await find(storage, user, text, filters)).hits.map((hit) => hit.messageId);
}

async function uploadNamed(storage: Storage, conversation: ConversationRecord, uploader: UserRecord, name: string): Promise<NewFile> {
  const bytes = new TextEncoder().encode(`${name} ${randomUUID()}`);
  const key = createHash('sha256').update(bytes).digest('hex');
  await storage.files.putBlob(key, async function* () {
    yield bytes;
  });
  const file: NewFile = {
    entry: { id: randomUUID(), name, type: 'application/pdf', size: bytes.byteLength },
    conversationId: conversation.id,
    uploader: uploader.id,
    blobs: { original: key, display: null, thumb: null },
    createdAt: NOW,
  };
  await storage.files.createFile(file);
  return file;
}

export function searchContract(context: ContractContext): void {
  describe('search', () => {
    it('finds messages by their words, best match first, with the matching words highlighted', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      // The shorter message is the older: it comes first for its rank, not for being new.
      const short = await say(storage, group, bob!, 'Pump seal leaking again', NOW);
      const long = await say(storage, group, alice!, 'the crew checked the north gate this morning and then the pump near the old shed, all fine apart from the fence', NOW + 1);
      await say(storage, group, bob!, 'nothing to see here', NOW + 2);

      const page = await find(storage, bob!, 'pump');
      expect(page.hits.map((hit) => hit.messageId)).toEqual([short.id, long.id]);
      expect(page.nextOffset).toBeNull();
      expect(page.hits[0]).toMatchObject({ conversationId: group.id, seq: 1, author: bob!.id, createdAt: short.createdAt, receivedAt: NOW });
      expect(page.hits[0]!.snippet.filter((part) => part.hit).map((part) => part.text.toLowerCase())).toEqual(['pump']);
      expect(page.hits[0]!.snippet.map((part) => part.text).join('')).toContain('seal leaking again');
      const longSnippet = page.hits[1]!.snippet.map((part) => part.text).join('');
      expect(longSnippet).toContain('pump');
      expect(page.hits[1]!.snippet.some((part) => part.hit && part.text === 'pump')).toBe(true);

      // Every word must match, as a whole word (the device's own search matches as you type; a
      // prefix scan over years of history is what makes a server search slow).
      expect(await ids(storage, bob!, 'pump seal')).toEqual([short.id]);
      expect(await ids(storage, bob!, 'SEAL pump')).toEqual([short.id]);
      expect(await ids(storage, bob!, 'PUMP Leaking')).toEqual([short.id]);
      expect(await ids(storage, bob!, 'seal pum')).toEqual([]);
      expect(await ids(storage, bob!, 'pumps')).toEqual([]);
      expect(await ids(storage, bob!, 'gasket')).toEqual([]);
    });

    it('follows edits and deletions: an old word is gone, a new one found, a deleted message found by nothing', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const message = await say(storage, group, alice!, 'meet at the pump house');
      const kept = await say(storage, group, alice!, 'the pump house key is under the mat');
      const edit: MessageState = { conversationId: group.id, id: message.id, edit: { body: 'meet at the water tower', editedAt: NOW + 5 }, deletedAt: null };
      await storage.projection.applyMessageStates([edit]);
      expect(await ids(storage, alice!, 'pump')).toEqual([kept.id]);
      expect(await ids(storage, alice!, 'tower')).toEqual([message.id]);
      // Another node sees the same index.
      const second = await context.second();
      expect(await ids(storage, alice!, 'water tower')).toEqual([message.id]);
      await second.projection.applyMessageStates([{ ...edit, deletedAt: NOW + 6 }]);
      expect(await ids(storage, alice!, 'tower')).toEqual([]);
      expect(await ids(storage, alice!, 'meet')).toEqual([]);
      // Edited again after the deletion (a late edit): still nothing.
      await storage.projection.applyMessageStates([{ ...edit, edit: { body: 'tower again', editedAt: NOW + 7 } }]);
      expect(await ids(storage, alice!, 'tower')).toEqual([]);
      expect(await ids(second, alice!, 'house')).toEqual([kept.id]);
    });

    it('finds messages by the names of their files; a deleted message takes its files out of the index', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      const report = await uploadNamed(storage, group, alice!, 'meter-reading-march.pdf');
      const carrying: NewMessage = { ...newMessage(alice!, 0, 'for the records'), attachments: [report.entry] };
      await number(storage, group, [carrying]);
      const plain = await say(storage, group, bob!, 'the march meter reading was low');
      expect(new Set(await ids(storage, bob!, 'meter march'))).toEqual(new Set([carrying.id, plain.id]));
      expect(await ids(storage, bob!, 'records meter')).toEqual([carrying.id]);
      expect(await ids(storage, bob!, 'reading', { hasFile: true })).toEqual([carrying.id]);
      await storage.projection.applyMessageStates([{ conversationId: group.id, id: carrying.id, edit: null, deletedAt: NOW + 1 }]);
      expect(await ids(storage, bob!, 'meter march')).toEqual([plain.id]);
      expect(await ids(storage, bob!, 'reading', { hasFile: true })).toEqual([]);
    });

    it('searches the conversations a user is in, the ones they left only up to when they left, and no other', async () => {
      const storage = context.storage();
      const [alice, bob, carol] = await createUsers(storage, 'alice', 'bob', 'carol');
      const group = await createGroup(storage, alice!, [bob!], NOW - 1_000);
      const before = await say(storage, group, alice!, 'generator fuel at half', NOW);
      await storage.conversations.removeMember(group.id, bob!.id, alice!.id, NOW + 10);
      const after = await say(storage, group, alice!, 'generator fuel refilled', NOW + 20);
      const { conversation: dm } = await storage.conversations.createConversation({
        id: randomUUID() as ConversationId,
        kind: 'dm',
        title: '',
        createdBy: alice!.id,
        createdAt: NOW - 1_000,
        members: [{ userId: alice!.id, role: 'member' }, { userId: carol!.id, role: 'member' }],
      });
      const secret = await say(storage, dm, carol!, 'generator key is in the blue box', NOW + 30);

      expect(new Set(await ids(storage, alice!, 'generator'))).toEqual(new Set([before.id, after.id, secret.id]));
      expect(await ids(storage, bob!, 'generator')).toEqual([before.id]);
      expect(await ids(storage, bob!, 'refilled')).toEqual([]);
      expect(await ids(storage, bob!, 'generator', { conversationId: group.id })).toEqual([before.id]);
      expect(await ids(storage, bob!, 'generator', { conversationId: dm.id })).toEqual([]);
      expect(await ids(storage, carol!, 'generator')).toEqual([secret.id]);
      expect(await ids(storage, carol!, 'fuel', { conversationId: group.id })).toEqual([]);
      const stranger = (await createUsers(storage, 'dave'))[0]!;
      expect(await ids(storage, stranger, 'generator')).toEqual([]);

      // Added back, bob is a member again and reads (so finds) the whole history.
      await storage.conversations.addMembers(group.id, [bob!.id], 'member', NOW + 40, alice!.id);
      expect(new Set(await ids(storage, bob!, 'generator'))).toEqual(new Set([before.id, after.id]));
      // Leaving by himself cuts it the same way as being removed.
      await storage.conversations.removeMember(group.id, bob!.id, null, NOW + 50);
      const later = await say(storage, group, alice!, 'generator serviced', NOW + 60);
      expect(new Set(await ids(storage, bob!, 'generator'))).toEqual(new Set([before.id, after.id]));
      expect(await ids(storage, alice!, 'serviced')).toEqual([later.id]);
    });

    it('filters by conversation, author, time and files', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const first = await createGroup(storage, alice!, [bob!]);
      const second = await createGroup(storage, alice!, [bob!]);
      const a1 = await say(storage, first, alice!, 'valve one', NOW + 100);
      const b1 = await say(storage, first, bob!, 'valve two', NOW + 200);
      const a2 = await say(storage, second, alice!, 'valve three', NOW + 300);
      const photo = await uploadNamed(storage, second, bob!, 'photo.jpg');
      const b2: NewMessage = { ...newMessage(bob!, 0, 'valve four'), attachments: [photo.entry] };
      await number(storage, second, [b2], NOW + 400);

      const all = async (filters: Partial<SearchQuery>) => new Set(await ids(storage, alice!, 'valve', filters));
      expect(await all({})).toEqual(new Set([a1.id, b1.id, a2.id, b2.id]));
      expect(await all({ conversationId: first.id })).toEqual(new Set([a1.id, b1.id]));
      expect(await all({ from: bob!.id })).toEqual(new Set([b1.id, b2.id]));
      expect(await all({ from: bob!.id, conversationId: first.id })).toEqual(new Set([b1.id]));
      expect(await all({ after: NOW + 200 })).toEqual(new Set([a2.id, b2.id]));
      expect(await all({ before: NOW + 200 })).toEqual(new Set([a1.id]));
      expect(await all({ after: NOW + 100, before: NOW + 400 })).toEqual(new Set([b1.id, a2.id]));
      expect(await all({ hasFile: true })).toEqual(new Set([b2.id]));
      expect(await all({ hasFile: true, from: alice!.id })).toEqual(new Set());
      expect(await all({ from: randomUUID() as UserId })).toEqual(new Set());
    });

    it('pages through every hit once, in a stable order', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const sent: string[] = [];
      for (let i = 0; i < 23; i++) sent.push((await say(storage, group, alice!, `daily log entry ${i}`, NOW + i)).id);
      const seen: string[] = [];
      const offsets: (number | null)[] = [];
      let offset: number | null = 0;
      while (offset !== null) {
        const page: SearchPage = await find(storage, alice!, 'log entry', { offset, limit: 10 });
        expect(page.hits.length).toBeLessThanOrEqual(10);
        seen.push(...page.hits.map((hit) => hit.messageId));
        offset = page.nextOffset;
        offsets.push(offset);
      }
      expect(offsets).toEqual([10, 20, null]);
      expect(seen).toHaveLength(23);
      expect(new Set(seen)).toEqual(new Set(sent));
      // Equal ranks: newest first.
      expect(seen[0]).toBe(sent[22]);
      expect((await find(storage, alice!, 'log', { offset: 23, limit: 10 })).hits).toEqual([]);
    });

    it('ranks the newest RANKED_WINDOW matches, so an old best match needs a filter to come back', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      // The best match there is (one word), then a full window of weaker, newer ones.
      const oldBest = await say(storage, group, alice!, 'compressor', NOW);
      const newer = Array.from({ length: RANKED_WINDOW }, (_, i) => newMessage(alice!, 0, `compressor check number ${i} done with the usual long list of steps`));
      await number(storage, group, newer, NOW + 10);
      const page = await find(storage, alice!, 'compressor', { limit: 50 });
      expect(page.hits.map((hit) => hit.messageId)).not.toContain(oldBest.id);
      expect(page.hits).toHaveLength(50);
      const last = await find(storage, alice!, 'compressor', { offset: RANKED_WINDOW - 10, limit: 50 });
      expect(last.hits).toHaveLength(10);
      expect(last.nextOffset).toBeNull();
      expect(await ids(storage, alice!, 'compressor', { before: NOW + 5 })).toEqual([oldBest.id]);
    });

    it('reads what a user types as words only: quotes, operators and SQL are never syntax', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const either = await say(storage, group, alice!, 'either pump OR seal, not both');
      const quoted = await say(storage, group, alice!, 'he said "near" the gate: it\'s the pump');
      await say(storage, group, alice!, 'unrelated words');
      const hostile = [
        '"', '""', "'", '\\', '*', '-', ':', '^', '(', ')', '{', '}', 'NEAR(', 'NEAR(pump seal)', 'OR', 'AND', 'NOT',
        '"pump', 'pump"', 'pump" OR "x', 'pump -seal', 'pump*', 'body:pump', 'files:pump', '{body}: pump', 'pump:*', 'pump & seal | !x',
        "'); DROP TABLE messages; --", "' OR 1=1 --", 'pump\u0000seal', '\u0001pump\u0002', 'NEAR("pump" "seal", 2)', '-pump', '+pump',
      ];
      for (const text of hostile) {
        const page = await find(storage, alice!, text);
        expect(Array.isArray(page.hits), text).toBe(true);
      }
      // Word-less queries find nothing; the words in the others are plain words.
      for (const text of ['"', "'", '\\', '*', '-', ':', '(', '\u0001']) expect(await ids(storage, alice!, text), text).toEqual([]);
      expect(await ids(storage, alice!, 'OR')).toEqual([either.id]);
      expect(await ids(storage, alice!, 'NEAR(')).toEqual([quoted.id]);
      expect(await ids(storage, alice!, 'pump" OR "seal')).toEqual([either.id]);
      expect(await ids(storage, alice!, '"gate: it\'s')).toEqual([quoted.id]);
      expect(await ids(storage, alice!, 'the \\ pump')).toEqual([quoted.id]);
      expect(new Set(await ids(storage, alice!, 'pump -seal'))).toEqual(new Set([either.id]));
      expect(new Set(await ids(storage, alice!, 'pump*'))).toEqual(new Set([either.id, quoted.id]));
      expect(await ids(storage, alice!, 'pum*')).toEqual([]);
      expect(await ids(storage, alice!, "'); DROP TABLE messages; --")).toEqual([]);
      // Still all there.
      expect((await storage.projection.listMessages(group.id, 0, 10)).length).toBe(3);
    });
    it('who finds what follows membership over time, edits and deletions (random histories)', async () => {
      // Seeded histories of joins, leaves and re-joins, messages, edits and deletions in two
      // groups, against a model: a member finds every live message whose text holds the word; a
      // former member what the group received before their latest leaving; anyone else nothing.
      // SEARCH_SEEDS=n replays one history, SEARCH_SEEDS=a-b runs a range.
      const storage = context.storage();
      const [from, to = from] = (process.env.SEARCH_SEEDS ?? '1-6').split('-').map(Number) as [number, number?];
      const seeds = Array.from({ length: to - from + 1 }, (_, i) => from + i);
      for (const seed of seeds) {
        let draws = 0;
        // Deterministic draws from the seed (a hash, so no generator of our own is needed).
        const draw = (n: number): number => createHash('sha256').update(`${seed}:${draws++}`).digest().readUInt32BE(0) % n;
        const pick = <T>(items: readonly T[]): T => items[draw(items.length)] as T;
        const people = await createUsers(storage, ...['o', 'p', 'q', 'r'].map((name) => `s${seed}${name}${randomUUID().slice(0, 6)}`));
        const owner = people[0]!;
        const groups = [await createGroup(storage, owner), await createGroup(storage, owner)];
        const members = new Map(groups.map((group) => [group.id, new Set<UserId>([owner.id])]));
        const leftAt = new Map<string, number>(); // `${group}/${user}` → latest leaving, while not a member
        const messages: { group: ConversationId; id: string; receivedAt: number; text: string; deleted: boolean }[] = [];
        let now = NOW;
        const events: string[] = [];
        for (let step = 0; step < 60; step++) {
          now += 10;
          const group = pick(groups);
          const inGroup = members.get(group.id)!;
          const roll = draw(100);
          if (roll < 45) {
            const author = pick(people.filter((person) => inGroup.has(person.id)));
            const text = draw(4) === 0 ? `gate w${step}` : `pump w${step}`;
            const message = await say(storage, group, author, text, now);
            messages.push({ group: group.id, id: message.id, receivedAt: now, text, deleted: false });
            events.push(`${now} ${author.username} says "${text}" in ${group.id.slice(0, 4)}`);
          } else if (roll < 60) {
            const leaving = people.filter((person) => person !== owner && inGroup.has(person.id));
            if (leaving.length === 0) continue;
            const person = pick(leaving);
            expect(await storage.conversations.removeMember(group.id, person.id, draw(2) === 0 ? null : owner.id, now)).toBe(true);
            inGroup.delete(person.id);
            leftAt.set(`${group.id}/${person.id}`, now);
            events.push(`${now} ${person.username} leaves ${group.id.slice(0, 4)}`);
          } else if (roll < 75) {
            const joining = people.filter((person) => !inGroup.has(person.id));
            if (joining.length === 0) continue;
            const person = pick(joining);
            await storage.conversations.addMembers(group.id, [person.id], 'member', now, owner.id);
            inGroup.add(person.id);
            leftAt.delete(`${group.id}/${person.id}`);
            events.push(`${now} ${person.username} joins ${group.id.slice(0, 4)}`);
          } else {
            const live = messages.filter((message) => !message.deleted);
            if (live.length === 0) continue;
            const message = pick(live);
            if (roll < 90) {
              message.text = draw(2) === 0 ? `pump e${step}` : `fence e${step}`;
              await storage.projection.applyMessageStates([{ conversationId: message.group, id: message.id as MessageId, edit: { body: message.text, editedAt: now }, deletedAt: null }]);
              events.push(`${now} ${message.id.slice(0, 4)} edited to "${message.text}"`);
            } else {
              message.deleted = true;
              await storage.projection.applyMessageStates([{ conversationId: message.group, id: message.id as MessageId, edit: null, deletedAt: now }]);
              events.push(`${now} ${message.id.slice(0, 4)} deleted`);
            }
          }
        }
        const visible = (person: UserRecord, group: ConversationId, message: (typeof messages)[number]): boolean => {
          if (message.group !== group || message.deleted || !message.text.split(' ').includes('pump')) return false;
          if (members.get(group)!.has(person.id)) return true;
          const left = leftAt.get(`${group}/${person.id}`);
          return left !== undefined && message.receivedAt < left;
        };
        for (const person of people) {
          const expected = groups.flatMap((group) => messages.filter((message) => visible(person, group.id, message)).map((message) => message.id)).sort();
          const found = (await find(storage, person, 'pump', { limit: 100 })).hits.map((hit) => hit.messageId as string).sort();
          expect(found, `SEARCH_SEEDS=${seed}, ${person.username}:\n${events.join('\n')}`).toEqual(expected);
          for (const group of groups) {
            const inOne = (await find(storage, person, 'pump', { conversationId: group.id, limit: 100 })).hits.map((hit) => hit.messageId as string).sort();
            expect(inOne, `SEARCH_SEEDS=${seed}, ${person.username} in ${group.id.slice(0, 4)}`).toEqual(messages.filter((message) => visible(person, group.id, message)).map((message) => message.id).sort());
          }
        }
      }
    });
  });
}
