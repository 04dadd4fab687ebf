// One table of error kinds for HTTP bodies, WebSocket close reasons and SDK errors, so a
// client can decide what to do from the kind alone.

export const ErrorKinds = {
  /** Credentials missing, wrong or expired: refresh the token or sign in again. */
  unauthorized: { status: 401 },
  /** Signed in but not allowed (not a member, not the author): do not retry. */
  forbidden: { status: 403 },
  /** The thing does not exist (or is hidden from you): do not retry. */
  notFound: { status: 404 },
  /** The request is malformed; `details` names the bad fields: fix the input. */
  invalidInput: { status: 400 },
  /** The request clashes with existing state (e.g. username taken): change it. */
  conflict: { status: 409 },
  /** Too many requests: retry after `details.retryAfterMs`. */
  rateLimited: { status: 429 },
  /** The payload exceeds a limit in `limits.ts`: send less. */
  tooLarge: { status: 413 },
  /** A fault on the server: retry later; it is logged. */
  internal: { status: 500 },
} as const;

export type ErrorKind = keyof typeof ErrorKinds;

export interface ErrorBody {
  error: { kind: ErrorKind; message: string; details?: Record<string, unknown> };
}

/** An error that carries its kind to the edge, where it becomes an HTTP body or a close code. */
export class OutpostError extends Error {
  readonly kind: ErrorKind;
  readonly details: Record<string, unknown> | undefined;

  constructor(kind: ErrorKind, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'OutpostError';
    this.kind = kind;
    this.details = details;
  }

  get status(): number {
    return ErrorKinds[this.kind].status;
  }

  toBody(): ErrorBody {
    return { error: { kind: this.kind, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export function isErrorKind(value: unknown): value is ErrorKind {
  return typeof value === 'string' && Object.hasOwn(ErrorKinds, value);
}

/**
 * Close codes for a whole socket, in the 4000-4999 range that RFC 6455 leaves to applications.
 * A refusal of one document travels as its reason text instead (see {@link encodeRefusal}):
 * Hocuspocus closes a single document with a message that carries no code.
 */
export const CloseCodes = {
  unauthorized: 4401,
  forbidden: 4403,
  invalidUpdate: 4422,
  tooLarge: 4413,
  rateLimited: 4429,
  internal: 4500,
  /** The node is shutting down: reconnect at once (the load balancer picks another node). */
  restarting: 4503,
} as const;

export type CloseCodeName = keyof typeof CloseCodes;

/**
 * What the SDK does when the server closes one of its documents. The code, not the English
 * message, decides; the message is for people and logs.
 */
export const RefusalCodes = {
  /** Not a member (any more), or another user's document: stop syncing it; unsent work there fails. */
  accessLost: 'accessLost',
  /** The session is over (signed out, revoked, expired): sign in again. */
  signedOut: 'signedOut',
  /** The update breaks a rule: quarantine the local copy, sync a fresh one, carry over what is still valid. */
  ruleBroken: 'ruleBroken',
  /** Something passing (overload, storage trouble, a dependency that never came): sync again after `retryAfterMs`. */
  retry: 'retry',
  /** The server rebuilt this server-owned document (a new epoch): drop the local copy and sync a fresh one. */
  replaced: 'replaced',
  /** The app speaks another protocol version: reload or update it. */
  outdated: 'outdated',
} as const;
export type RefusalCode = keyof typeof RefusalCodes;

/** A refusal of one document, as the server sends it and the SDK reads it. */
export interface Refusal {
  kind: ErrorKind;
  code: RefusalCode;
  message: string;
  /** With `retry`: how long to wait before syncing again. */
  retryAfterMs?: number;
}

/** WebSocket close reasons are capped at 123 bytes; refusals stay under it. */
const REASON_BYTES = 120;

/** `kind[code,retryAfterMs]: message`, shortened to fit a close reason. */
export function encodeRefusal(refusal: Refusal): string {
  const retry = refusal.retryAfterMs === undefined ? '' : `,${Math.max(0, Math.round(refusal.retryAfterMs))}`;
  const text = `${refusal.kind}[${refusal.code}${retry}]: ${refusal.message}`;
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= REASON_BYTES) return text;
  return new TextDecoder().decode(bytes.slice(0, REASON_BYTES)).replace(/\uFFFD$/, '');
}

const REFUSAL = /^([a-zA-Z]+)\[([a-zA-Z]+)(?:,(\d+))?\]: ?([\s\S]*)$/;

/** The inverse of {@link encodeRefusal}; null for a reason that is not a refusal of ours. */
export function decodeRefusal(text: string): Refusal | null {
  const match = REFUSAL.exec(text);
  if (!match) return null;
  const [, kind, code, retry, message] = match;
  if (!isErrorKind(kind) || !isRefusalCode(code)) return null;
  return { kind, code, message: message ?? '', ...(retry === undefined ? {} : { retryAfterMs: Number(retry) }) };
}

export function isRefusalCode(value: unknown): value is RefusalCode {
  return typeof value === 'string' && Object.hasOwn(RefusalCodes, value);
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant failed: ${message}`);
}

export function unreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
