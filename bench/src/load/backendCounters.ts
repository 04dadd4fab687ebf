// What the shared backends of several nodes carry, read from their own counters before and after a
// phase: Postgres from pg_stat_statements (statements, COMMITs, rows, WAL bytes; updated as each
// statement ends, unlike pg_stat_database, which backends flush up to 10 s late) and the CPU of the
// database's backends from /proc; Redis from INFO (commands per command name, bytes in and out,
// its CPU). The bench's own queries are left out of both.
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';

/** Linux's USER_HZ, the unit of utime and stime in /proc/<pid>/stat. */
const CLOCK_TICKS = 100;

export interface PostgresCounters {
  /** Statements run, BEGIN and COMMIT not counted. */
  statements: number;
  /** COMMITs: the explicit transactions (a statement outside one is its own). */
  commits: number;
  rows: number;
  walBytes: number;
  /** CPU of the database's backends (those alive at both readings), ms. */
  cpuMs: number;
  /** Backend pid → its CPU ms, to match the next reading against. */
  backends: Map<number, number>;
}

export interface RedisCounters {
  commands: number;
  /** Calls per command name (publish, evalsha, …). */
  perCommand: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
  cpuMs: number;
}

/** What the backends carried between two readings (CPU: of the backends alive at both). */
export interface BackendLoad {
  postgres: Omit<PostgresCounters, 'backends'>;
  redis: RedisCounters;
}

function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null; // the backend ended between the query and the read
  }
}

function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** Reads the counters of one Postgres database (with pg_stat_statements loaded) and one Redis. */
export class BackendCounters {
  readonly #pg: pg.Client;
  readonly #redis: Redis;
  /** Bytes of the INFO replies the bench itself received since the last reading (counted as Redis output). */
  #ownReplyBytes = 0;

  private constructor(client: pg.Client, redis: Redis) {
    this.#pg = client;
    this.#redis = redis;
  }

  /** Connects to `databaseUrl` (creating the extension there) and to `redisUrl`. */
  static async open(databaseUrl: string, redisUrl: string): Promise<BackendCounters> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    } catch (error) {
      await client.end();
      throw new Error(`pg_stat_statements is not available (is it in shared_preload_libraries?): ${(error as Error).message}`, { cause: error });
    }
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
    await redis.connect();
    return new BackendCounters(client, redis);
  }

  async read(): Promise<{ postgres: PostgresCounters; redis: RedisCounters; ownReplyBytes: number }> {
    const statements = await this.#pg.query<{ statements: string; commits: string; rows: string; wal_bytes: string }>(`
      SELECT coalesce(sum(calls) FILTER (WHERE query !~* '^\\s*(begin|commit)'), 0)::text AS statements,
             coalesce(sum(calls) FILTER (WHERE query ~* '^\\s*commit'), 0)::text AS commits,
             coalesce(sum(rows), 0)::text AS rows,
             coalesce(sum(wal_bytes), 0)::text AS wal_bytes
        FROM pg_stat_statements
       WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND query !~* 'pg_stat_statements|pg_stat_activity'`);
    const activity = await this.#pg.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    const backends = new Map<number, number>();
    for (const { pid } of activity.rows) {
      const cpu = processCpuMs(pid);
      if (cpu !== null) backends.set(pid, cpu);
    }
    const row = statements.rows[0];
    const stats = await this.#redis.info('stats');
    const commandstats = await this.#redis.info('commandstats');
    const cpu = await this.#redis.info('cpu');
    const ownReplyBytes = this.#ownReplyBytes;
    this.#ownReplyBytes = Buffer.byteLength(stats) + Buffer.byteLength(commandstats) + Buffer.byteLength(cpu) + 3 * 16;
    const perCommand: Record<string, number> = {};
    for (const [name, value] of parseInfo(commandstats)) {
      const calls = /calls=(\d+)/.exec(value)?.[1];
      if (name.startsWith('cmdstat_') && calls) perCommand[name.slice('cmdstat_'.length)] = Number(calls);
    }
    const s = parseInfo(stats);
    const c = parseInfo(cpu);
    return {
      postgres: {
        statements: Number(row?.statements ?? 0),
        commits: Number(row?.commits ?? 0),
        rows: Number(row?.rows ?? 0),
        walBytes: Number(row?.wal_bytes ?? 0),
        cpuMs: [...backends.values()].reduce((n, v) => n + v, 0),
        backends,
      },
      redis: {
        commands: Number(s.get('total_commands_processed') ?? 0),
        perCommand,
        bytesIn: Number(s.get('total_net_input_bytes') ?? 0),
        bytesOut: Number(s.get('total_net_output_bytes') ?? 0),
        cpuMs: (Number(c.get('used_cpu_user') ?? 0) + Number(c.get('used_cpu_sys') ?? 0)) * 1000,
      },
      ownReplyBytes,
    };
  }

  /** What happened between `before` and `after` (both from read()), less the bench's own reading. */
  static between(before: Awaited<ReturnType<BackendCounters['read']>>, after: Awaited<ReturnType<BackendCounters['read']>>): BackendLoad {
    let cpuMs = 0;
    for (const [pid, ms] of after.postgres.backends) cpuMs += ms - (before.postgres.backends.get(pid) ?? ms);
    const perCommand: Record<string, number> = {};
    for (const [name, calls] of Object.entries(after.redis.perCommand)) {
      const delta = calls - (before.redis.perCommand[name] ?? 0) - (name === 'info' ? 3 : 0);
      if (delta > 0) perCommand[name] = delta;
    }
    return {
      postgres: {
        statements: after.postgres.statements - before.postgres.statements,
        commits: after.postgres.commits - before.postgres.commits,
        rows: after.postgres.rows - before.postgres.rows,
        walBytes: after.postgres.walBytes - before.postgres.walBytes,
        cpuMs,
      },
      redis: {
        // The three INFO commands of the first reading are the bench's, as are their replies.
        commands: after.redis.commands - before.redis.commands - 3,
        perCommand,
        bytesIn: after.redis.bytesIn - before.redis.bytesIn,
        bytesOut: after.redis.bytesOut - before.redis.bytesOut - after.ownReplyBytes,
        cpuMs: after.redis.cpuMs - before.redis.cpuMs,
      },
    };
  }

  async close(): Promise<void> {
    await this.#pg.end().catch(() => undefined);
    this.#redis.disconnect();
  }
}
