// Structured logs (pino): one JSON line per event on stdout, with the request, connection, user
// and document it concerns, and never a secret or a message body. Pretty, coloured lines when a
// person runs the node in a terminal (pino-pretty); JSON whenever stdout is a file or a pipe.
import { inspect } from 'node:util';
import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from './config.ts';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * Fields whose values are secrets or what people wrote: replaced before a line is written, at
 * the top level and one level down (`{ request: { password } }`). Call sites do not log them;
 * this is the net under that rule.
 */
const REDACTED = [
  'password',
  'newPassword',
  'token',
  'accessToken',
  'refreshToken',
  'authorization',
  'cookie',
  'secret',
  'signingKey',
  'body',
  'text',
  'update',
];
const redactPaths = REDACTED.flatMap((key) => [key, `*.${key}`]);

export interface LoggerOptions {
  /** Where lines go (tests); default stdout, pretty when it is a terminal. */
  destination?: DestinationStream;
  /** Force pretty output on or off (default: whether stdout is a TTY). */
  pretty?: boolean;
}

function destinationFor(options: LoggerOptions): DestinationStream {
  if (options.destination) return options.destination;
  if (options.pretty ?? process.stdout.isTTY === true) {
    return pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true, sync: true });
  }
  // Synchronous: a line logged just before process.exit() is not lost.
  return pino.destination({ dest: 1, sync: true });
}

/** The pino instance behind a logger made by {@link createLogger}, or a new one. */
export function createPino(level: Config['logLevel'], options: LoggerOptions = {}): Pino {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { error: pino.stdSerializers.err, err: pino.stdSerializers.err },
      redact: { paths: redactPaths, censor: '[redacted]' },
    },
    destinationFor(options),
  );
}

/** Adapts pino to the `(message, fields)` calls the node makes. */
function wrap(log: Pino): Logger {
  return {
    debug: (msg, fields) => log.debug(fields ?? {}, msg),
    info: (msg, fields) => log.info(fields ?? {}, msg),
    warn: (msg, fields) => log.warn(fields ?? {}, msg),
    error: (msg, fields) => log.error(fields ?? {}, msg),
  };
}

/**
 * The node's logger at `level` (LOG_LEVEL).
 *
 * @example
 * const log = createLogger('info');
 * log.warn('update refused', { userId, document, connectionId, code });
 */
export function createLogger(level: Config['logLevel'], options: LoggerOptions = {}): Logger {
  return wrap(createPino(level, options));
}

/** A logger that adds `context` (request id, connection id, user, document) to every line. */
export function withContext(log: Logger, context: Record<string, unknown>): Logger {
  const merged = (fields?: Record<string, unknown>) => (fields ? { ...context, ...fields } : context);
  return {
    debug: (msg, fields) => log.debug(msg, merged(fields)),
    info: (msg, fields) => log.info(msg, merged(fields)),
    warn: (msg, fields) => log.warn(msg, merged(fields)),
    error: (msg, fields) => log.error(msg, merged(fields)),
  };
}

/** Hocuspocus reports each refused update on the console; the write path logged it already ("update refused"). */
const ALREADY_LOGGED = /^closing connection \S+ \(while handling [^)]*\) because of exception$/;

/**
 * Sends what libraries print with `console.*` through `log`, so stdout stays one JSON line per
 * event (a library's multi-line stack trace becomes the `error` field of one line).
 */
export function routeConsole(log: Logger): void {
  const write =
    (level: keyof Logger) =>
    (...args: unknown[]): void => {
      const error = args.find((arg) => arg instanceof Error);
      const text = args
        .filter((arg) => arg !== error)
        .map((arg) => (typeof arg === 'string' ? arg : inspect(arg, { depth: 3, breakLength: Infinity })))
        .join(' ');
      log[ALREADY_LOGGED.test(text) ? 'debug' : level](text, { source: 'console', ...(error ? { error } : {}) });
    };
  console.log = write('info');
  console.info = write('info');
  console.debug = write('debug');
  console.warn = write('warn');
  console.error = write('error');
}
