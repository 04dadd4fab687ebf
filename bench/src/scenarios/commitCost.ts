// `npm run bench -- commit`: what the SQLite commit of new messages costs, on the thread that
// runs it (the node's commit worker), without the rest of the server around it: the write path's
// own commit (`commitRequests`: numbering, the log entry with its sequence entries, the
// projection's rows) for batches of one-message writes over 20 conversations, against a raw
// better-sqlite3 insert of the same update bytes in transactions of the same size, measured in
// the same run on the same disk. New messages reach the full-text index later, in batches
// (migration 10); that work is measured apart and added, per message, to give the whole cost.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as Y from 'yjs';
import { segmentDoc, serverClientId, writeMessage, type ConversationId, type MessageId, type UserId } from '@outpost/shared-schema';
import { SqliteStorage } from '@outpost/storage';
import { commitRequests, type CommitRequest } from '@outpost/sync-server';
import { printReport, type Measurement } from '../report/Report.ts';

const CONVERSATIONS = 20;
const BATCH_SIZES = [1, 3, 10] as const;
const BODY = 'Gate 4 at the north yard is locked again; who has the key? The shift starts at six, bring the radios. '.slice(0, 100);
const author = '00000000-0000-4000-8000-00000000000a' as UserId;

interface Cost {
  /** Wall time of one commit (one transaction, its fsync included). */
  commitMs: number;
  /** CPU of this thread per message (user + system). */
  cpuMs: number;
  /** Bytes this process wrote per message (WAL, database, temporary files). */
  bytes: number;
}

/** Bytes the process has written so far (Linux), or NaN where /proc is not there. */
function writtenBytes(): number {
  try {
    return Number(/wchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** Runs `round` (one transaction of `size` messages) `rounds` times; the cost per commit and per message. */
async function measure(rounds: number, size: number, round: () => Promise<void> | void): Promise<Cost> {
  const bytes = writtenBytes();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < rounds; i++) await round();
  const used = process.cpuUsage(cpu);
  return {
    commitMs: (performance.now() - started) / rounds,
    cpuMs: (used.user + used.system) / 1000 / (rounds * size),
    bytes: (writtenBytes() - bytes) / (rounds * size),
  };
}

/** A conversation's segment as a client writes into it: each call, the update of one new message. */
function writer(): { next(): { id: MessageId; update: Uint8Array; createdAt: number } } {
  const doc = new Y.Doc();
  return {
    next() {
      const id = crypto.randomUUID() as MessageId;
      const createdAt = Date.now();
      let update: Uint8Array = new Uint8Array();
      doc.once('update', (bytes: Uint8Array) => (update = bytes));
      writeMessage(doc, id, { author, createdAt, body: BODY });
      return { id, update, createdAt };
    },
  };
}

/** Measures and prints; returns the measurements (the tiny run in the test suite checks them). */
export async function commitCost(rounds = Number(process.env.ROUNDS ?? 1_500)): Promise<Measurement[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'outpost-bench-commit-'));
  try {
    const storage = new SqliteStorage(path.join(dir, 'outpost.db'));
    await storage.migrate();
    await storage.accounts.createUser({ id: author, username: 'ada', displayName: 'Ada', passwordHash: 'x', createdAt: 1 });
    const conversations = Array.from({ length: CONVERSATIONS }, () => ({ id: crypto.randomUUID() as ConversationId, writer: writer(), version: 0, clock: 0 }));
    for (const { id } of conversations) {
      await storage.conversations.createConversation({ id, kind: 'group', title: 'crew', createdBy: author, createdAt: 1, members: [{ userId: author, role: 'owner' }] });
    }
    const updates: Uint8Array[] = [];
    let turn = 0;
    // One write per message, each to the next conversation, numbered as the write path asks.
    const batch = (size: number): CommitRequest[] =>
      Array.from({ length: size }, () => {
        const conversation = conversations[turn++ % CONVERSATIONS]!;
        const message = conversation.writer.next();
        updates.push(message.update);
        const request: CommitRequest = {
          doc: segmentDoc(conversation.id, 0),
          base: conversation.version++,
          update: message.update,
          clients: { userId: author, ids: [] },
          messages: { conversationId: conversation.id, segmentSize: 1_000_000, list: [{ id: message.id, segment: 0, author, createdAt: message.createdAt, body: BODY }] },
          numbering: { client: serverClientId(0), clock: conversation.clock++, known: [], deletes: [] },
        };
        return request;
      });
    // The batches are written before the clock starts: the client's work is not the commit's.
    let ready: CommitRequest[][] = [];
    const prepare = (size: number, count: number) => (ready = Array.from({ length: count }, () => batch(size)));
    const commit = async (size: number) => {
      const results = await commitRequests(storage.log, ready.shift() ?? batch(size), Date.now());
      const refused = results.find((result) => !result.outcome.ok);
      if (refused) throw new Error(`the bench's commit was refused: ${JSON.stringify(refused.outcome)}`);
    };
    // Warm-up: statements prepared, every conversation's rows written once.
    prepare(3, 50);
    for (let i = 0; i < 50; i++) await commit(3);
    storage.search.indexPending();

    const outpost = new Map<number, Cost>();
    let indexing = { cpuMs: 0, messages: 0 };
    for (const size of BATCH_SIZES) {
      prepare(size, Math.ceil(rounds / size));
      outpost.set(size, await measure(Math.ceil(rounds / size), size, () => commit(size)));
      // What waits for the index now, taken as the compaction worker takes it.
      const cpu = process.cpuUsage();
      let taken = 0;
      for (let n = storage.search.indexPending(); n > 0; n = storage.search.indexPending()) taken += n;
      const used = process.cpuUsage(cpu);
      indexing = { cpuMs: indexing.cpuMs + (used.user + used.system) / 1000, messages: indexing.messages + taken };
    }
    await storage.close();

    // The baseline: the same update bytes, one row each, in transactions of the same size.
    const db = new Database(path.join(dir, 'raw.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE updates (position INTEGER PRIMARY KEY AUTOINCREMENT, doc_name TEXT NOT NULL, data BLOB NOT NULL) STRICT');
    const insert = db.prepare('INSERT INTO updates (doc_name, data) VALUES (?, ?)');
    let row = 0;
    const insertBatch = db.transaction((size: number) => {
      for (let i = 0; i < size; i++, row++) insert.run(segmentDoc(conversations[row % CONVERSATIONS]!.id, 0), updates[row % updates.length]!);
    });
    const raw = new Map<number, Cost>();
    for (const size of BATCH_SIZES) raw.set(size, await measure(Math.ceil(rounds / size), size, () => insertBatch(size)));
    db.close();

    const perIndexed = indexing.messages > 0 ? indexing.cpuMs / indexing.messages : 0;
    const measurements: Measurement[] = BATCH_SIZES.flatMap((size) => {
      const ours = outpost.get(size)!;
      const base = raw.get(size)!;
      const label = `${size} message${size === 1 ? '' : 's'} a commit`;
      return [
        { name: `${label}: commit`, value: ours.commitMs, unit: 'ms', baseline: { name: 'raw insert', value: base.commitMs } },
        { name: `${label}: CPU per message, commit`, value: ours.cpuMs, unit: 'ms', baseline: { name: 'raw insert', value: base.cpuMs } },
        { name: `${label}: CPU per message, with indexing`, value: ours.cpuMs + perIndexed, unit: 'ms', baseline: { name: 'raw insert', value: base.cpuMs } },
        { name: `${label}: bytes written per message`, value: Math.round(ours.bytes), unit: 'B', baseline: { name: 'raw insert', value: Math.round(base.bytes) } },
      ];
    });
    printReport(
      'SQLite commit of new messages (the commit worker’s work, on one thread)',
      [
        `${rounds} messages per batch size over ${CONVERSATIONS} conversations, 100-character bodies (${Math.round(updates.reduce((sum, u) => sum + u.byteLength, 0) / updates.length)} B updates); WAL, synchronous=FULL.`,
        `Full-text indexing afterwards, in batches: ${perIndexed.toFixed(3)} ms of CPU per message (${indexing.messages} messages), added in "with indexing".`,
      ],
      measurements,
    );
    return measurements;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
