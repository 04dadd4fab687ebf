// Starts one Outpost node from the environment (see .env.example); a `.env` file in the working
// directory is read first (settings already in the environment win over it).
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { databaseAdvice } from './databaseWait.ts';
import { createLogger, routeConsole } from './log.ts';
import { startServer } from './server.ts';

/** What a person can do about a port or address the node cannot listen on; null for other errors. */
function listenAdvice(error: unknown, config: Config): string | null {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return `port ${config.port} is in use: set PORT=… to a free port (or stop what is using it)`;
    case 'EACCES':
      return `port ${config.port} needs privileges this user does not have: set PORT=… to a port above 1023`;
    case 'EADDRNOTAVAIL':
      return `HOST=${config.host} is not an address of this machine: set HOST=… (0.0.0.0 listens on every network)`;
    default:
      return null;
  }
}

/** The addresses other devices on the site's network can use, when the node listens on all of them. */
function networkUrls(config: Config, port: number): string[] {
  if (config.host !== '0.0.0.0' && config.host !== '::') return [];
  const scheme = config.tls ? 'https' : 'http';
  return Object.values(networkInterfaces())
    .flat()
    .filter((address) => address && address.family === 'IPv4' && !address.internal)
    .map((address) => `${scheme}://${address!.address}:${port}`);
}

const envFile = path.resolve('.env');
if (existsSync(envFile)) process.loadEnvFile(envFile);

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`outpost: bad setting: ${error.message}`);
    process.exit(2);
  }
  throw error;
}

const log = createLogger(config.logLevel);
try {
  const server = await startServer(config, log);
  // From here on, what libraries print goes through the logger too (one JSON line per event).
  routeConsole(log);
  const stop = async (signal: string) => {
    log.info('draining: finishing what is in flight, then closing connections', { signal });
    await server.drain();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  log.info('Outpost is listening', {
    url: server.url,
    storage: config.databaseUrl ? 'postgres' : `sqlite under ${config.dataDir}`,
    ...(existsSync(envFile) ? { settings: envFile } : {}),
  });
  const elsewhere = networkUrls(config, server.port);
  if (elsewhere.length > 0) log.info('other devices on this network can open', { urls: elsewhere });
  if (elsewhere.length > 0 && !config.tls) {
    log.warn('phones and other computers need HTTPS for the app to work offline: set TLS_CERT and TLS_KEY (see docs/phones.md)');
  }
} catch (error) {
  const advice = listenAdvice(error, config) ?? databaseAdvice(error, config.databaseUrl);
  if (!advice) throw error;
  console.error(`outpost: ${advice}`);
  process.exit(1);
}
