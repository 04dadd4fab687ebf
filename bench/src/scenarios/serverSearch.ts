// `npm run bench -- search`: server search latency over a large message projection, on SQLite
// (FTS5) and on Postgres (tsvector + GIN), through the public Storage interface. The messages
// are numbered through the real commit path (so the index is filled by the same triggers and, on
// SQLite, the same queue as in production), spread over a year, 200 conversations and 60
// people, with words drawn from a Zipf distribution over a synthetic vocabulary, as natural text
// is. A baseline in the same run: the same number of point reads of one message by its key, the
// cheapest query there is.
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { segmentDoc, type ConversationId, type MessageId, type UserId } from '@outpost/shared-schema';
import { PostgresStorage, SqliteStorage, type LogWrite, type NewMessage, type SearchQuery, type Storage } from '@outpost/storage';
import { startPostgres } from '@outpost/storage/testing';
import { printReport, type Measurement } from '../report/Report.ts';

export interface SearchBenchOptions {
  messages: number;
  queries: number;
  backends: readonly ('sqlite' | 'postgres')[];
  /** Print the report (the test variant keeps quiet). */
  print?: boolean;
}

export interface SearchBenchResult {
  backend: 'sqlite' | 'postgres';
  messages: number;
  loadMs: number;
  /** Latency by kind of query, ms. */
  latency: Record<QueryKind, { p50: number; p95: number; count: number; meanHits: number; minHits: number; cpuP50: number; cpuP95: number }>;
  /** The machine's 1-minute load average before and after the queries (other work slows them). */
  load: [number, number];
  /** The same number of point reads by key, ms. */
  pointRead: { p50: number; p95: number };
  /** Every hit of every query was in a conversation the searcher may read, in the time they may read it. */
  scoped: boolean;
}

type QueryKind = 'one word' | 'two words' | 'word + filter' | 'common word' | 'newcomer, common word';

const YEAR = 365 * 24 * 3600 * 1000;
const START = Date.UTC(2025, 0, 1);
const CONVERSATIONS = 200;
const PEOPLE = 60;
const MEMBERS = 10;
const VOCABULARY = 20_000;
const BATCH_CONVERSATIONS = 20;

/** A small seeded generator (mulberry32): the same data on every run and machine. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = 'ka ro mi ta ne su lo pa vi de gu sha tre bo fen mal kor dus lin zar'.split(' ');

/** A synthetic vocabulary: pronounceable, distinct words, rank 0 the most frequent. */
export function vocabulary(): string[] {
  const words = new Set<string>();
  const random = seeded(7);
  while (words.size < VOCABULARY) {
    const length = 2 + Math.floor(random() * 3);
    let word = '';
    for (let i = 0; i < length; i++) word += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    words.add(word);
  }
  return [...words];
}

/** Draws ranks with probability ∝ 1/(rank+1) (Zipf, s = 1), as words occur in text. */
function zipf(random: () => number, n: number): () => number {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cumulative[i] = sum += 1 / (i + 1);
  return () => {
    const target = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

interface World {
  people: UserId[];
  conversations: ConversationId[];
  /** conversation → members (the first is the owner). */
  members: Map<ConversationId, UserId[]>;
  /** `${conversation}/${user}` → when they were removed. */
  removedAt: Map<string, number>;
  /** One message id per conversation, for the point-read baseline. */
  someMessage: Map<ConversationId, MessageId>;
  /** Every 97th message: what people remember and search for. Word ranks, rarest first. */
  samples: { conversationId: ConversationId; ranks: number[] }[];
  /** Someone who joined at the end of the year: in one conversation of two, with a few messages. */
  newcomer: UserId;
}

export async function load(storage: Storage, messages: number, words: string[]): Promise<World> {
  const random = seeded(42);
  const people: UserId[] = [];
  for (let i = 0; i < PEOPLE; i++) {
    const id = randomUUID() as UserId;
    await storage.accounts.createUser({ id, username: `person${i}`, displayName: `Person ${i}`, passwordHash: 'x', createdAt: START });
    people.push(id);
  }
  const conversations: ConversationId[] = [];
  const members = new Map<ConversationId, UserId[]>();
  for (let i = 0; i < CONVERSATIONS; i++) {
    const chosen = new Set<UserId>();
    while (chosen.size < MEMBERS) chosen.add(people[Math.floor(random() * PEOPLE)]!);
    const list = [...chosen];
    const id = randomUUID() as ConversationId;
    await storage.conversations.createConversation({
      id,
      kind: 'group',
      title: `crew ${i}`,
      createdBy: list[0]!,
      createdAt: START,
      members: list.map((userId, index) => ({ userId, role: index === 0 ? 'owner' : 'member' })),
    });
    conversations.push(id);
    members.set(id, list);
  }

  const word = zipf(random, words.length);
  const versions = new Map<string, number>();
  const someMessage = new Map<ConversationId, MessageId>();
  const samples: World['samples'] = [];
  // 250 messages a conversation per commit (5,000 a commit), at least 40 commits over the year.
  const perBatch = Math.max(1, Math.min(250, Math.floor(messages / (BATCH_CONVERSATIONS * 40))));
  let written = 0;
  let round = 0;
  const rounds = Math.ceil(messages / (BATCH_CONVERSATIONS * perBatch));
  while (written < messages) {
    const writes: LogWrite[] = [];
    const now = START + Math.floor((round / rounds) * YEAR);
    for (let c = 0; c < BATCH_CONVERSATIONS && written < messages; c++) {
      const conversationId = conversations[(round * BATCH_CONVERSATIONS + c) % CONVERSATIONS]!;
      const authors = members.get(conversationId)!;
      const list: NewMessage[] = [];
      for (let m = 0; m < perBatch && written < messages; m++, written++) {
        const length = 4 + Math.floor(random() * 20);
        const ranks = Array.from({ length }, () => word());
        const body = ranks.map((rank) => words[rank]).join(' ');
        if (written % 97 === 0) samples.push({ conversationId, ranks: [...new Set(ranks)].sort((a, b) => b - a) });
        list.push({ id: randomUUID() as MessageId, segment: 0, author: authors[Math.floor(random() * authors.length)]!, createdAt: now, body });
      }
      const doc = segmentDoc(conversationId, 0);
      const base = versions.get(doc) ?? 0;
      versions.set(doc, base + 1);
      if (!someMessage.has(conversationId)) someMessage.set(conversationId, list[0]!.id);
      writes.push({ doc, base, entry: new Uint8Array([round & 0xff]), messages: { conversationId, segmentSize: 1_000_000_000, list } });
    }
    const outcomes = await storage.log.commit(writes, now);
    const refused = outcomes.find((outcome) => !outcome.ok);
    if (refused) throw new Error(`the bench's commit was refused: ${JSON.stringify(refused)}`);
    round += 1;
  }
  // On SQLite a new message waits in a queue for the full-text index (migration 10), which a node
  // takes every second; a node would have taken this load's queue while writing it.
  if (storage instanceof SqliteStorage) while (storage.search.indexPending() > 0);

  // A fifth of the people leave one of their conversations half-way through the year.
  const removedAt = new Map<string, number>();
  for (const [index, conversationId] of conversations.entries()) {
    if (index % 5 !== 0) continue;
    const list = members.get(conversationId)!;
    const leaving = list[list.length - 1]!;
    const at = START + YEAR / 2;
    await storage.conversations.removeMember(conversationId, leaving, list[0]!, at);
    removedAt.set(`${conversationId}/${leaving}`, at);
  }

  // A newcomer at the end of the year, in a conversation of two with a few messages of frequent
  // words: what they can see is a sliver of the server, and a search should cost in proportion.
  const newcomer = randomUUID() as UserId;
  const end = START + YEAR;
  await storage.accounts.createUser({ id: newcomer, username: 'newcomer', displayName: 'Newcomer', passwordHash: 'x', createdAt: end });
  const welcome = randomUUID() as ConversationId;
  const pair = [people[0]!, newcomer];
  await storage.conversations.createConversation({ id: welcome, kind: 'group', title: 'welcome', createdBy: pair[0]!, createdAt: end, members: pair.map((userId, index) => ({ userId, role: index === 0 ? 'owner' : 'member' })) });
  members.set(welcome, pair);
  const list: NewMessage[] = Array.from({ length: 20 }, (_, i) => ({
    id: randomUUID() as MessageId,
    segment: 0,
    author: pair[i % 2]!,
    createdAt: end,
    body: Array.from({ length: 12 }, () => words[Math.floor(random() * 80)]).join(' '),
  }));
  const outcomes = await storage.log.commit([{ doc: segmentDoc(welcome, 0), base: 0, entry: new Uint8Array([1]), messages: { conversationId: welcome, segmentSize: 1_000_000_000, list } }], end);
  if (!outcomes.every((outcome) => outcome.ok)) throw new Error(`the bench's commit was refused: ${JSON.stringify(outcomes)}`);
  if (storage instanceof SqliteStorage) while (storage.search.indexPending() > 0);
  return { people, conversations, members, removedAt, someMessage, samples, newcomer };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * The queries of a run, the same for both backends. People search for what they remember of a
 * message in a conversation they are in: its most distinctive word, or two of them, sometimes
 * with a filter. And the worst case: a frequent word.
 */
function plan(world: World, words: string[], count: number): { kind: QueryKind; query: SearchQuery }[] {
  const random = seeded(99);
  const queries: { kind: QueryKind; query: SearchQuery }[] = [];
  const kinds: QueryKind[] = ['one word', 'two words', 'word + filter', 'common word', 'newcomer, common word'];
  for (let i = 0; i < count; i++) {
    const kind = kinds[i % kinds.length]!;
    const sample = world.samples[Math.floor(random() * world.samples.length)]!;
    const members = world.members.get(sample.conversationId)!;
    const userId = members[Math.floor(random() * (members.length - 1))]!; // not the one who leaves
    const base = { userId, offset: 0, limit: 20 };
    const [rarest, second] = sample.ranks.map((rank) => words[rank]!);
    if (kind === 'one word') queries.push({ kind, query: { ...base, text: rarest! } });
    else if (kind === 'two words') queries.push({ kind, query: { ...base, text: `${rarest!} ${second ?? rarest!}` } }); else if (kind === 'word + filter') {
      const filter = i % 3 === 0 ? { conversationId: sample.conversationId } : i % 3 === 1 ? { from: members[0]! } : { after: START + YEAR / 2 };
      queries.push({ kind, query: { ...base, text: rarest!, ...filter } });
    } else if (kind === 'common word') {
      // A frequent word: in 2–6 % of all messages (the 20th in 59,245 of a million, the 59th in 21,219).
      queries.push({ kind, query: { ...base, text: words[20 + Math.floor(random() * 40)]! } });
    } else {
      // The same kind of word, searched by the newcomer: a few matches are theirs, the rest of the server's.
      queries.push({ kind, query: { userId: world.newcomer, offset: 0, limit: 20, text: words[20 + Math.floor(random() * 40)]! } });
    }
  }
  return queries;
}

async function measure(
  backend: 'sqlite' | 'postgres',
  storage: Storage,
  options: SearchBenchOptions,
  words: string[],
  analyze?: () => Promise<void>,
): Promise<SearchBenchResult> {
  await storage.migrate();
  const started = performance.now();
  const world = await load(storage, options.messages, words);
  const loadMs = performance.now() - started;
  if (analyze) await analyze();
  const queries = plan(world, words, options.queries);
  // Warm up caches (the first queries pay for opening pages), as a running server would be.
  for (const { query } of queries.slice(0, Math.min(20, queries.length))) await storage.search.search(query);

  const times = new Map<QueryKind, { ms: number[]; cpu: number[]; hits: number[] }>();
  let scoped = true;
  const loadBefore = loadavg()[0]!;
  for (const { kind, query } of queries) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const page = await storage.search.search(query);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const entry = times.get(kind) ?? { ms: [], cpu: [], hits: [] };
    entry.ms.push(ms);
    entry.cpu.push((cpu.user + cpu.system) / 1000);
    entry.hits.push(page.hits.length);
    times.set(kind, entry);
    for (const hit of page.hits) {
      const member = world.members.get(hit.conversationId)?.includes(query.userId) ?? false;
      const removed = world.removedAt.get(`${hit.conversationId}/${query.userId}`);
      if (!member || (removed !== undefined && hit.receivedAt >= removed)) scoped = false;
    }
  }
  const reads: number[] = [];
  const ids = [...world.someMessage.entries()];
  for (let i = 0; i < queries.length; i++) {
    const [conversationId, messageId] = ids[i % ids.length]!;
    const t0 = performance.now();
    await storage.projection.getMessage(conversationId, messageId);
    reads.push(performance.now() - t0);
  }
  const latency = Object.fromEntries(
    [...times.entries()].map(([kind, { ms, cpu, hits }]) => [
      kind,
      {
        p50: percentile(ms, 50),
        p95: percentile(ms, 95),
        count: ms.length,
        meanHits: hits.reduce((a, b) => a + b, 0) / hits.length,
        minHits: Math.min(...hits),
        cpuP50: percentile(cpu, 50),
        cpuP95: percentile(cpu, 95),
      },
    ]),
  ) as SearchBenchResult['latency'];
  const loadAverage: [number, number] = [loadBefore, loadavg()[0]!];
  return { backend, messages: options.messages, loadMs, latency, pointRead: { p50: percentile(reads, 50), p95: percentile(reads, 95) }, scoped, load: loadAverage };
}

/** Runs the scenario on each backend asked for; prints a report unless `print` is false. */
export async function serverSearch(options: SearchBenchOptions): Promise<SearchBenchResult[]> {
  const words = vocabulary();
  const results: SearchBenchResult[] = [];
  for (const backend of options.backends) {
    if (backend === 'sqlite') {
      const dir = await mkdtemp(join(tmpdir(), 'outpost-bench-search-'));
      const storage = new SqliteStorage(join(dir, 'outpost.db'));
      try {
        results.push(await measure('sqlite', storage, options, words));
      } finally {
        await storage.close();
        await rm(dir, { recursive: true, force: true });
      }
    } else {
      const server = await startPostgres();
      const storage = new PostgresStorage(server.url);
      try {
        // A bulk load outruns autovacuum; a database that grew over months has its statistics.
        const analyze = async () => {
          const client = new pg.Client(server.url);
          await client.connect();
          await client.query('ANALYZE');
          await client.end();
        };
        results.push(await measure('postgres', storage, options, words, analyze));
      } finally {
        await storage.close();
        await server.stop();
      }
    }
  }
  if (options.print !== false) {
    for (const result of results) {
      const measurements: Measurement[] = [];
      for (const [kind, l] of Object.entries(result.latency)) {
        measurements.push({ name: `${kind}: p50`, value: l.p50, unit: 'ms', baseline: { name: 'point read p50', value: result.pointRead.p50 } });
        measurements.push({ name: `${kind}: p95 (${l.count} queries, ${l.meanHits.toFixed(1)} hits each)`, value: l.p95, unit: 'ms', baseline: { name: 'point read p95', value: result.pointRead.p95 } });
        // SQLite runs in this process: its CPU time per query does not depend on what else the machine does.
        if (result.backend === 'sqlite') {
          measurements.push({ name: `${kind}: CPU time p50`, value: l.cpuP50, unit: 'ms' });
          measurements.push({ name: `${kind}: CPU time p95`, value: l.cpuP95, unit: 'ms' });
        }
      }
      printReport(
        `Server search on ${result.backend === 'sqlite' ? 'SQLite (FTS5)' : 'Postgres (tsvector + GIN)'}, ${result.messages.toLocaleString('en')} messages`,
        [
          `${CONVERSATIONS} conversations of ${MEMBERS} among ${PEOPLE} people, a year of messages, Zipf words from ${VOCABULARY.toLocaleString('en')}; 20 hits a page with snippets`,
          `queries: the rarest word(s) of a message in one of the searcher's conversations; "common word": one in 2–6 % of all messages;`,
          `"newcomer": the same, by someone in one conversation of two with 20 messages`,
          `loaded through the commit path (index kept by its triggers) in ${(result.loadMs / 1000).toFixed(0)} s; every hit within the searcher's membership: ${result.scoped ? 'yes' : 'NO'}`,
          `load average while querying: ${result.load[0].toFixed(1)} → ${result.load[1].toFixed(1)} (${availableParallelism()} cores)`,
        ],
        measurements,
      );
    }
  }
  return results;
}
