// What a request carries, refused with a clear error when it cannot be stored as sent: a body
// that is not JSON, and the NUL character (U+0000) anywhere in a body's strings or in the address
// (path or query). Postgres cannot hold NUL in text (and no person types it); refused here, it never
// reaches a query as a server error.
import type { Context, MiddlewareHandler } from 'hono';
import { OutpostError } from '@outpost/shared-schema';

function nulRefused(where: string): OutpostError {
  return new OutpostError('invalidInput', `${where} holds the NUL character (U+0000), which no text may hold: leave it out`);
}

/** True when some string in `value` (keys included) holds NUL. */
function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([key, inner]) => key.includes('\u0000') || holdsNul(inner));
  return false;
}

/** The request's JSON body; `hint` says what it should look like. */
export async function jsonBody(c: Context, hint?: string): Promise<unknown> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new OutpostError('invalidInput', hint ? `body must be JSON: ${hint}` : 'body must be JSON');
  }
  if (holdsNul(raw)) throw nulRefused('the request body');
  return raw;
}

/** Refuses a request whose address (path or query) holds NUL, percent-encoded: a URL cannot carry it otherwise. */
export function refuseNulInUrl(): MiddlewareHandler {
  return async (c, next) => {
    if (/%00/i.test(c.req.url)) throw nulRefused('the address');
    await next();
  };
}
