// @outpost/sync-server: start a node programmatically (tests, bench, embedding).
export { startServer, type OutpostServer } from './server.ts';
export { loadConfig, ConfigError, type Config } from './config.ts';
export { createLogger, type Logger } from './log.ts';
