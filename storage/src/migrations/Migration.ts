// A numbered schema change, so every node applies the same changes in the same order and
// `schema_migrations` can tell which ones a database already has.

/** One schema change. Versions are positive integers, strictly increasing within a list. */
export interface Migration {
  version: number;
  description: string;
  /** One or more SQL statements, applied together in the migration's transaction. */
  sql: string;
}

/** The migrations of `all` not yet in `applied`, in version order. Throws on a malformed list. */
export function pendingMigrations(all: readonly Migration[], applied: ReadonlySet<number>): Migration[] {
  let previous = 0;
  for (const migration of all) {
    if (!Number.isInteger(migration.version) || migration.version <= previous) {
      throw new Error(`migration versions must be increasing positive integers; ${migration.version} follows ${previous}`);
    }
    previous = migration.version;
  }
  return all.filter((migration) => !applied.has(migration.version));
}
