// Starts one Outpost node from the environment (see .env.example).
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { startServer } from './server.ts';

try {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const server = await startServer(config, log);
  log.info('Outpost is listening', {
    url: server.url,
    storage: config.databaseUrl ? 'postgres' : `sqlite under ${config.dataDir}`,
  });
  const stop = async (signal: string) => {
    log.info('draining: finishing what is in flight, then closing connections', { signal });
    await server.drain();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`outpost: bad setting: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
