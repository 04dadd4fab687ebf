// The REST half of the SDK: JSON over fetch, errors parsed into OutpostError, the access token
// refreshed before it expires (and once more on a 401). "Before it expires" is read on the
// server's clock: a phone in the field often has its own clock wrong by hours (no network time),
// and one running ahead would take every token for expired and refresh on every call.
import { OutpostError, SessionEnds, isErrorKind, type Session, type SessionEnd } from '@outpost/shared-schema';
import { ServerClock } from './serverClock.ts';

/** How long the call that brought a new token may have taken (its issue time bounds the clock's offset). */
const ISSUE_SLACK_MS = 2_000;

/**
 * Where the newest session is kept, so other tabs and the next start find it. Refresh tokens
 * rotate on every use and one presented twice signs the device out, so every tab must refresh
 * from the newest one (see `Api.refresh`).
 */
export interface SessionStore {
  load(): Session | null;
  save(session: Session): void;
}

/**
 * When a JWT expires (ms), read from its `exp` claim; the signature is the server's business.
 * A token that cannot be read counts as expired: the next call refreshes it.
 */
function expiry(token: string): { issuedAt: number; expiresAt: number; lifetimeMs: number } {
  try {
    const payload = JSON.parse(atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number; iat?: number };
    const expiresAt = (payload.exp ?? 0) * 1000;
    const issuedAt = (payload.iat ?? 0) * 1000;
    return { issuedAt, expiresAt, lifetimeMs: expiresAt - issuedAt };
  } catch {
    return { issuedAt: 0, expiresAt: 0, lifetimeMs: 0 };
  }
}

/** True when the token is good for a while yet at `now` (server time): more than 30 s, or half its lifetime if shorter. */
function fresh(session: Session, now: number): boolean {
  const { expiresAt, lifetimeMs } = expiry(session.accessToken);
  return now < expiresAt - Math.min(30_000, lifetimeMs / 2);
}

/** Web Locks across tabs where the platform has them; otherwise a lock within this process. */
const localLocks = new Map<string, Promise<unknown>>();
function withLock<T>(name: string, task: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as { locks?: { request(name: string, task: () => Promise<T>): Promise<T> } } | undefined)?.locks;
  if (locks) return locks.request(name, task);
  const run = (localLocks.get(name) ?? Promise.resolve()).then(task, task);
  localLocks.set(name, run.catch(() => undefined));
  return run;
}

export class Api {
  readonly #baseUrl: string;
  readonly #store: SessionStore | undefined;
  #current: Session | null = null;
  #refreshing: Promise<Session> | null = null;
  /**
   * The server's clock, read from each token handed out and each answer (its Date header); what
   * the SDK dates (a message's creation, an edit) is on it, so a device whose clock is hours
   * wrong dates them right, and token expiry is judged on it.
   */
  readonly clock = new ServerClock();
  /** The refusal that ended the session; every later call fails with it, without asking again. */
  #ended: { end: SessionEnd; error: OutpostError } | null = null;
  readonly #endListeners = new Set<(end: SessionEnd) => void>();

  constructor(baseUrl: string, store?: SessionStore) {
    this.#baseUrl = baseUrl.replace(/\/$/, '');
    this.#store = store;
  }

  get session(): Session | null {
    return this.#current;
  }

  /**
   * Makes `session` the current one and keeps it in the shared store. `issuedNow`: the server
   * has just handed it out (sign-in, refresh), so its issue time tells how far this device's
   * clock is from the server's (to within a second or two of rounding and travel).
   */
  adopt(session: Session, issuedNow = false): Session {
    if (issuedNow) {
      const { issuedAt } = expiry(session.accessToken);
      // Issued during the call that brought it, which took a second or two at most.
      if (issuedAt > 0) this.clock.observe(issuedAt, Date.now() - ISSUE_SLACK_MS, Date.now());
    }
    this.#current = session;
    this.#store?.save(session);
    return session;
  }

  /** How the session ended, or null while it lasts. */
  get ended(): SessionEnd | null {
    return this.#ended?.end ?? null;
  }

  /** Calls `listener` when the server refuses this session's refresh (once). */
  onEnded(listener: (end: SessionEnd) => void): () => void {
    this.#endListeners.add(listener);
    return () => this.#endListeners.delete(listener);
  }

  /** A valid access token, refreshing first when it is about to expire. */
  async accessToken(): Promise<string> {
    if (this.#ended) throw this.#ended.error;
    const session = this.#current;
    if (!session) throw new OutpostError('unauthorized', 'not signed in');
    if (fresh(session, this.clock.now())) return session.accessToken;
    return (await this.refresh()).accessToken;
  }

  /**
   * Rotates the refresh token; callers in this tab share one request, and tabs take turns under
   * a lock. A tab that finds a newer session in the store (another tab rotated first) takes it
   * instead of presenting its own, now used, refresh token.
   */
  refresh(): Promise<Session> {
    this.#refreshing ??= (async () => {
      try {
        const mine = this.#current;
        if (!mine) throw new OutpostError('unauthorized', 'not signed in');
        return await withLock(`outpost-refresh:${mine.user.id}`, async () => {
          const stored = this.#store?.load();
          const base = stored && stored.user.id === mine.user.id && stored.refreshToken !== mine.refreshToken ? stored : mine;
          if (base !== mine && fresh(base, this.clock.now())) {
            this.#current = base;
            return base;
          }
          try {
            return this.adopt(await this.request<Session>('POST', '/api/auth/refresh', { refreshToken: base.refreshToken }, false), true);
          } catch (error) {
            if (error instanceof OutpostError && error.kind === 'unauthorized') this.#end(error);
            throw error;
          }
        });
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  #end(error: OutpostError): void {
    if (this.#ended) return;
    const end: SessionEnd = error.details?.session === SessionEnds.expired ? SessionEnds.expired : SessionEnds.revoked;
    this.#ended = { end, error };
    for (const listener of this.#endListeners) listener(end);
  }

  /**
   * Uploads `body` with PUT, reporting bytes sent (XMLHttpRequest where there is one: browsers
   * report upload progress nowhere else). Resolves with the JSON answer and its status; rejects
   * with an OutpostError (`details.offline` when the server cannot be reached, `details.aborted`
   * when `signal` aborted it).
   */
  async upload<T>(path: string, body: Blob, onProgress: (sent: number) => void, signal: AbortSignal): Promise<{ status: number; body: T }> {
    const send = async (): Promise<{ status: number; text: string }> => {
      const token = await this.accessToken();
      const url = `${this.#baseUrl}${path}`;
      if (typeof XMLHttpRequest !== 'undefined') return xhrPut(url, token, body, onProgress, signal);
      try {
        const response = await fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body, signal });
        onProgress(body.size);
        return { status: response.status, text: await response.text() };
      } catch (error) {
        if (signal.aborted) throw new OutpostError('internal', 'the upload was cancelled', { aborted: true });
        throw new OutpostError('internal', `cannot reach the server (${(error as Error).message})`, { offline: true });
      }
    };
    let answer = await send();
    if (answer.status === 401) {
      await this.refresh();
      answer = await send();
    }
    return { status: answer.status, body: parseAnswer<T>(answer.status, answer.text) };
  }

  /** GETs bytes (a file) with the access token; rejects like `request`. */
  async download(path: string, signal?: AbortSignal): Promise<Blob> {
    const send = async () => {
      try {
        return await fetch(`${this.#baseUrl}${path}`, { headers: { authorization: `Bearer ${await this.accessToken()}` }, ...(signal ? { signal } : {}) });
      } catch (error) {
        throw new OutpostError('internal', `cannot reach the server (${(error as Error).message})`, { offline: true });
      }
    };
    let response = await send();
    if (response.status === 401) {
      await this.refresh();
      response = await send();
    }
    if (!response.ok) parseAnswer(response.status, await response.text());
    return response.blob();
  }

  async request<T>(method: string, path: string, body?: unknown, authenticated = true): Promise<T> {
    let sentAt = 0;
    const send = async (): Promise<Response> => {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (authenticated) headers.authorization = `Bearer ${await this.accessToken()}`;
      sentAt = Date.now();
      try {
        return await fetch(`${this.#baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      } catch (error) {
        throw new OutpostError('internal', `cannot reach the server (${(error as Error).message})`, { offline: true });
      }
    };
    let response = await send();
    // Every answer says the server's time (to the second): a resumed session whose token still
    // looks valid learns the clock from its first call, not from its first refresh.
    const date = Date.parse(response.headers.get('date') ?? '');
    if (Number.isFinite(date)) this.clock.observe(date, sentAt, Date.now());
    if (response.status === 401 && authenticated) {
      await this.refresh();
      response = await send();
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new OutpostError('internal', `server answered ${response.status} with non-JSON`);
    }
    if (!response.ok) {
      const error = (json as { error?: { kind?: unknown; message?: unknown; details?: Record<string, unknown> } })?.error;
      const kind = isErrorKind(error?.kind) ? error.kind : 'internal';
      throw new OutpostError(kind, String(error?.message ?? `HTTP ${response.status}`), error?.details);
    }
    return json as T;
  }
}

/** The JSON of an answer; an error answer becomes the OutpostError it describes. */
function parseAnswer<T>(status: number, text: string): T {
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw new OutpostError('internal', `server answered ${status} with non-JSON`);
  }
  if (status < 200 || status >= 300) {
    const error = (json as { error?: { kind?: unknown; message?: unknown; details?: Record<string, unknown> } })?.error;
    const kind = isErrorKind(error?.kind) ? error.kind : 'internal';
    throw new OutpostError(kind, String(error?.message ?? `HTTP ${status}`), error?.details);
  }
  return json as T;
}

/** A PUT through XMLHttpRequest, for its upload progress events. */
function xhrPut(url: string, token: string, body: Blob, onProgress: (sent: number) => void, signal: AbortSignal): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
    xhr.onerror = () => reject(new OutpostError('internal', 'cannot reach the server', { offline: true }));
    xhr.onabort = () => reject(new OutpostError('internal', 'the upload was cancelled', { aborted: true }));
    if (signal.aborted) return reject(new OutpostError('internal', 'the upload was cancelled', { aborted: true }));
    signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}
