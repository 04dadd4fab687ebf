// @outpost/storage/testing: what other packages' tests need to exercise storage for real —
// the shared contract suite and throwaway Postgres servers.
export { storageContract, type StorageFixture } from './storageContract.ts';
export { startPostgres, type PostgresServer } from './postgresServer.ts';
