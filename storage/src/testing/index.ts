// @outpost/storage/testing: what other packages' tests need to exercise storage for real —
// the shared contract suite, throwaway Postgres and Redis servers, and a TCP proxy for faults.
export { storageContract, type StorageFixture } from './storageContract.ts';
export { startPostgres, type PostgresOptions, type PostgresServer } from './postgresServer.ts';
export { startRedis, type RedisServer } from './redisServer.ts';
export { startTcpProxy, type ProxyTarget, type TcpProxy } from './tcpProxy.ts';
export { freePort } from './freePort.ts';
