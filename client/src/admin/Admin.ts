// What a server administrator does from the SDK (network calls; anyone else gets `forbidden`):
// the users, deactivating and reactivating them, password reset codes, counts and the audit log.
import type { AdminUserList, AuditPage, DeactivationResult, PasswordResetIssued, ServerStats } from '@outpost/shared-schema';
import type { Api } from '../connection/api.ts';

export interface AuditFilters {
  /** Only these kinds (see AuditKinds). */
  kinds?: readonly string[];
  /** A user id or username: events where they act or are acted on. */
  user?: string;
  since?: number;
  until?: number;
  /** The `nextBefore` of the previous page. */
  before?: number;
  limit?: number;
}

export class Admin {
  readonly #api: Api;

  /** @internal Made by OutpostClient; use `client.admin`. */
  constructor(api: Api) {
    this.#api = api;
  }

  /** Users by username, 50 at a time; `q` filters by name, `after` is the previous page's `nextAfter`. */
  async users(options: { q?: string; after?: string; limit?: number } = {}): Promise<AdminUserList> {
    return this.#api.request<AdminUserList>('GET', `/api/admin/users?${query(options)}`);
  }

  /** Deactivates a user: every device signed out at once, sign-in refused, messages kept. Resolves to the devices signed out. */
  async deactivate(userId: string): Promise<number> {
    return (await this.#api.request<DeactivationResult>('POST', `/api/admin/users/${encodeURIComponent(userId)}/deactivate`)).signedOut;
  }

  async reactivate(userId: string): Promise<void> {
    await this.#api.request('POST', `/api/admin/users/${encodeURIComponent(userId)}/reactivate`);
  }

  /** Turns off a user's two-factor sign-in (for someone who lost their authenticator and recovery codes). */
  async disableTwoFactor(userId: string): Promise<void> {
    await this.#api.request('POST', `/api/admin/users/${encodeURIComponent(userId)}/two-factor/disable`);
  }

  /** A one-time password reset code and link for the user (hand it over unless `delivered`). */
  async issuePasswordReset(userId: string): Promise<PasswordResetIssued> {
    return this.#api.request<PasswordResetIssued>('POST', `/api/admin/users/${encodeURIComponent(userId)}/password-reset`);
  }

  async stats(): Promise<ServerStats> {
    return this.#api.request<ServerStats>('GET', '/api/admin/stats');
  }

  /** Audit events, newest first, with filters; page on with `before: page.nextBefore`. */
  async auditLog(filters: AuditFilters = {}): Promise<AuditPage> {
    const { kinds, ...rest } = filters;
    return this.#api.request<AuditPage>('GET', `/api/admin/audit?${query({ ...rest, ...(kinds && kinds.length > 0 ? { kind: kinds.join(',') } : {}) })}`);
  }
}

function query(values: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== '') params.set(key, String(value));
  return params.toString();
}
