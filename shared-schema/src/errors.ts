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
 * Close codes for a document's connection, in the 4000-4999 range that RFC 6455 leaves to
 * applications. The reason string is always `<kind>: <message>` so the SDK can parse the kind.
 */
export const CloseCodes = {
  unauthorized: 4401,
  forbidden: 4403,
  invalidUpdate: 4422,
  tooLarge: 4413,
  rateLimited: 4429,
  internal: 4500,
} as const;

export type CloseCodeName = keyof typeof CloseCodes;

export function closeReason(kind: ErrorKind, message: string): string {
  // WebSocket close reasons are capped at 123 bytes.
  return `${kind}: ${message}`.slice(0, 120);
}

export function parseCloseReason(reason: string): { kind: ErrorKind; message: string } | null {
  const colon = reason.indexOf(':');
  if (colon < 0) return null;
  const kind = reason.slice(0, colon);
  return isErrorKind(kind) ? { kind, message: reason.slice(colon + 1).trim() } : null;
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant failed: ${message}`);
}

export function unreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
