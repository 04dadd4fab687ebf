// The REST half of the SDK: JSON over fetch, errors parsed into OutpostError, the access token
// refreshed before it expires (and once more on a 401).
import { OutpostError, isErrorKind, type Session } from '@outpost/shared-schema';

export interface SessionStore {
  get(): Session | null;
  set(session: Session | null): void;
}

export class Api {
  readonly #baseUrl: string;
  readonly #session: SessionStore;
  #expiresAt = 0;
  #refreshing: Promise<Session> | null = null;

  constructor(baseUrl: string, session: SessionStore) {
    this.#baseUrl = baseUrl.replace(/\/$/, '');
    this.#session = session;
  }

  get session(): Session | null {
    return this.#session.get();
  }

  /** Starts the expiry clock of a session just received. */
  adopt(session: Session): Session {
    this.#expiresAt = Date.now() + session.expiresIn * 1000;
    this.#session.set(session);
    return session;
  }

  /** A valid access token, refreshing first when it expires within 30 seconds. */
  async accessToken(): Promise<string> {
    const session = this.#session.get();
    if (!session) throw new OutpostError('unauthorized', 'not signed in');
    if (Date.now() < this.#expiresAt - 30_000) return session.accessToken;
    return (await this.refresh()).accessToken;
  }

  /** Rotates the refresh token; concurrent callers share one request. */
  refresh(): Promise<Session> {
    this.#refreshing ??= (async () => {
      try {
        const session = this.#session.get();
        if (!session) throw new OutpostError('unauthorized', 'not signed in');
        const next = await this.request<Session>('POST', '/api/auth/refresh', { refreshToken: session.refreshToken }, false);
        return this.adopt(next);
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  async request<T>(method: string, path: string, body?: unknown, authenticated = true): Promise<T> {
    const send = async (): Promise<Response> => {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (authenticated) headers.authorization = `Bearer ${await this.accessToken()}`;
      try {
        return await fetch(`${this.#baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      } catch (error) {
        throw new OutpostError('internal', `cannot reach the server (${(error as Error).message})`, { offline: true });
      }
    };
    let response = await send();
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
