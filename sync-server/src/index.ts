// @outpost/sync-server: start a node programmatically (tests, bench, embedding).
export { startServer, type OutpostServer, type ServerOptions } from './server.ts';
export type { Mailer, PasswordResetMessage } from './admin/Mailer.ts';
export { loadConfig, ConfigError, type Config } from './config.ts';
export { createLogger, withContext, type Logger, type LoggerOptions } from './log.ts';
// The write path's judge, for `npm run bench` (what an update would do; may its sender do it).
export { analyzeUpdate, UpdateCaps, type Analysis } from './sync/analyze.ts';
export { validateSegment, validateUser, type SegmentChanges, type UserDocChanges } from './sync/validate.ts';
// The SQLite commit worker's own work, for `npm run bench -- commit`.
export { commitRequests, type CommitRequest } from './sync/commitRequest.ts';
// What storing an image costs, for `npm run bench` (its stored forms, made with sharp).
export { makeImageVariants } from './files/imageVariants.ts';
