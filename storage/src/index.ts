// @outpost/storage: the one persistence contract of the sync server and its SQLite and Postgres
// implementations. Most callers need only `openStorage` and the `Storage` type.
export type * from './Storage.ts';
export { CLIENTS_PER_DOC_PER_DAY } from './UpdateLog.ts';
export { FileVariants } from './Files.ts';
export { ERASED_DISPLAY_NAME, erasedUsername } from './Privacy.ts';
export { RANKED_WINDOW } from './Search.ts';
export { openStorage, SQLITE_FILE, type StorageOptions } from './openStorage.ts';
export { SqliteStorage } from './sqlite/SqliteStorage.ts';
export { INDEX_BATCH } from './sqlite/SqliteSearch.ts';
export { PostgresStorage } from './postgres/PostgresStorage.ts';
export { defaultPoolTimeouts, type PoolOptions, type PoolTimeouts } from './postgres/pool.ts';
export { backupSqlite, dumpPostgres, postgresIsEmpty, restorePostgres } from './backup.ts';
