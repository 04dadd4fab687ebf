// One SQLite connection shared by the SQLite parts of Storage: pragmas, cached statements and
// the BEGIN IMMEDIATE transactions that keep several connections (or processes) correct.
import Database from 'better-sqlite3';

export type SqlValue = string | number | bigint | Buffer | null;

/** How long a write waits for another connection's transaction before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10_000;

export class SqliteDatabase {
  readonly db: Database.Database;
  readonly #statements = new Map<string, Database.Statement<SqlValue[]>>();

  /**
   * WAL journal and `synchronous=FULL`: a committed transaction survives `kill -9` and power
   * loss. `':memory:'` gives a private in-memory database.
   */
  constructor(filename: string) {
    this.db = new Database(filename);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.db.pragma('foreign_keys = ON');
    // Deletion is real: deleted rows (a deleted message's log entries, its body in the read
    // model) are overwritten with zeros in the file, not left in free pages.
    this.db.pragma('secure_delete = ON');
    // Temporary files (a statement's journal, which every commit's INSERT with triggers needs)
    // in memory: on disk, each commit opened, wrote ~100 pages to and closed a file in /var/tmp,
    // and a message's text was left in the file system's free blocks.
    this.db.pragma('temp_store = MEMORY');
    // SQLite's own lower() folds ASCII only; search should match "Émile" with "émile" too.
    this.db.function('outpost_lower', { deterministic: true }, (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value));
  }

  /** Runs `work` in a BEGIN IMMEDIATE transaction (nested calls become savepoints). */
  immediate<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  /** Runs `work` in a read transaction, so what it reads comes from one moment. */
  deferred<T>(work: () => T): T {
    return this.db.transaction(work).deferred();
  }

  get<T>(sql: string, ...params: SqlValue[]): T | undefined {
    return this.#statement(sql).get(...params) as T | undefined;
  }

  all<T>(sql: string, ...params: SqlValue[]): T[] {
    return this.#statement(sql).all(...params) as T[];
  }

  run(sql: string, ...params: SqlValue[]): Database.RunResult {
    return this.#statement(sql).run(...params);
  }

  count(sql: string, ...params: SqlValue[]): number {
    return this.get<{ n: number }>(sql, ...params)?.n ?? 0;
  }

  close(): void {
    this.db.close();
  }

  #statement(sql: string): Database.Statement<SqlValue[]> {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.db.prepare<SqlValue[]>(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}
