// The server administrator's powers: who is one (the first account, or ADMIN_USERS), the list of
// users, deactivating (every session revoked at once, on every node; messages stay) and
// reactivating, password resets by one-time code, server counts and the audit log.
import { createHash, randomBytes } from 'node:crypto';
import {
  OutpostError,
  type AdminUser,
  type AdminUserList,
  type AdminUserQuery,
  type AuditKind,
  type AuditPage,
  type AuditQuery,
  type PasswordResetIssued,
  type ResetPasswordRequest,
  type UserId,
  isUuid,
} from '@outpost/shared-schema';
import type { Storage, UserAccount, ServerCounts } from '@outpost/storage';
import type { Audit } from '../audit/Audit.ts';
import type { AccountSecurity } from '../auth/accountSecurity.ts';
import { hashPassword } from '../auth/passwords.ts';
import type { Mailer } from './Mailer.ts';

export function hashResetCode(code: string): string {
  return createHash('sha256').update(code.trim()).digest('hex');
}

export interface AdministratorsOptions {
  storage: Storage;
  audit: Audit;
  account: AccountSecurity;
  mailer: Mailer;
  /** Usernames named by ADMIN_USERS. */
  adminUsers: readonly string[];
  resetTtlMs: number;
}

export class Administrators {
  readonly #options: AdministratorsOptions;
  readonly #named: ReadonlySet<string>;
  /** The first account never changes once there is one. */
  #first: UserId | null = null;

  constructor(options: AdministratorsOptions) {
    this.#options = options;
    this.#named = new Set(options.adminUsers);
  }

  async isAdmin(userId: UserId): Promise<boolean> {
    this.#first ??= await this.#options.storage.administration.firstUserId();
    if (userId === this.#first) return true;
    if (this.#named.size === 0) return false;
    const user = await this.#options.storage.accounts.getUserById(userId);
    return user !== null && this.#named.has(user.username);
  }

  /** Throws `forbidden` unless `userId` is a server administrator. */
  async require(userId: UserId): Promise<void> {
    if (!(await this.isAdmin(userId))) throw new OutpostError('forbidden', 'only a server administrator can do this');
  }

  async listUsers(query: AdminUserQuery): Promise<AdminUserList> {
    const users = await this.#options.storage.administration.listUsers({ ...(query.q ? { query: query.q } : {}), ...(query.after ? { after: query.after } : {}), limit: query.limit });
    this.#first ??= await this.#options.storage.administration.firstUserId();
    const withFactor = await Promise.all(users.map(async (u) => (await this.#options.storage.secondFactors.getSecondFactor(u.id))?.enabledAt != null));
    const shown: AdminUser[] = users.map((u: UserAccount, i) => ({
      id: u.id,
      username: u.username,
      displayName: u.displayName,
      createdAt: u.createdAt,
      deactivatedAt: u.deactivatedAt,
      serverAdmin: u.id === this.#first || this.#named.has(u.username),
      twoFactor: withFactor[i] ?? false,
    }));
    return { users: shown, nextAfter: users.length === query.limit ? (users.at(-1)?.username ?? null) : null };
  }

  /** Deactivates a user: they cannot sign in, every device is signed out now (everywhere); their messages stay. */
  async deactivate(admin: UserId, target: UserId): Promise<number> {
    if (admin === target) throw new OutpostError('invalidInput', 'you cannot deactivate your own account');
    await this.#requireUser(target);
    if (!(await this.#options.storage.administration.setDeactivated(target, Date.now()))) throw new OutpostError('conflict', 'that account is already deactivated');
    const signedOut = await this.#options.account.signOut(target, admin, { all: true }, 'deactivated');
    await this.#options.audit.record('user.deactivated', admin, target, { devicesSignedOut: signedOut.length });
    return signedOut.length;
  }

  async reactivate(admin: UserId, target: UserId): Promise<void> {
    await this.#requireUser(target);
    if (!(await this.#options.storage.administration.setDeactivated(target, null))) throw new OutpostError('conflict', 'that account is active');
    await this.#options.audit.record('user.reactivated', admin, target);
  }

  /** Turns off a user's two-factor sign-in (they lost their authenticator and recovery codes). */
  async disableTwoFactor(admin: UserId, target: UserId): Promise<void> {
    await this.#requireUser(target);
    if (!(await this.#options.storage.secondFactors.removeSecondFactor(target))) throw new OutpostError('conflict', 'that account has no two-factor sign-in');
    await this.#options.audit.record('secondFactor.disabled', admin, target, { byAdministrator: true });
  }

  /** A one-time reset code for `target`, handed to the Mailer; shown to the admin when it cannot deliver. */
  async issuePasswordReset(admin: UserId, target: UserId, origin: string): Promise<PasswordResetIssued> {
    const user = await this.#requireUser(target);
    const code = randomBytes(18).toString('base64url');
    const now = Date.now();
    const expiresAt = now + this.#options.resetTtlMs;
    await this.#options.storage.administration.createPasswordReset({ codeHash: hashResetCode(code), userId: target, issuedBy: admin, createdAt: now, expiresAt });
    const link = `${origin}/reset?code=${encodeURIComponent(code)}`;
    const delivered = await this.#options.mailer.sendPasswordReset({ user, code, link, expiresAt });
    await this.#options.audit.record('password.resetIssued', admin, target, { delivered });
    return delivered ? { code: null, link: null, expiresAt, delivered } : { code, link, expiresAt, delivered };
  }

  /** Uses a reset code: the new password is set and every device of that user is signed out. */
  async resetPassword(request: ResetPasswordRequest): Promise<void> {
    const userId = await this.#options.storage.administration.consumePasswordReset(hashResetCode(request.code), Date.now());
    if (!userId) throw new OutpostError('unauthorized', 'this reset code is unknown, used or expired; ask an administrator for a new one');
    await this.#options.storage.accounts.setPasswordHash(userId, await hashPassword(request.newPassword));
    const signedOut = await this.#options.account.signOut(userId, userId, { all: true }, 'passwordReset');
    await this.#options.audit.record('password.reset', userId, userId, { devicesSignedOut: signedOut.length });
  }

  async counts(): Promise<ServerCounts> {
    return this.#options.storage.administration.counts(Date.now());
  }

  /** The audit log with the admin screen's filters; `user` may be a user id or a username. */
  async auditLog(query: AuditQuery): Promise<AuditPage> {
    let involving: string | undefined;
    if (query.user) {
      const name: string = query.user.trim();
      const byName = async () => (await this.#options.storage.accounts.getUserByUsername(name.toLowerCase()))?.id ?? 'nobody';
      involving = isUuid(name) ? name : await byName();
    }
    const events = await this.#options.storage.audit.list({
      kinds: query.kind as AuditKind[],
      ...(involving !== undefined ? { involving } : {}),
      ...(query.since !== undefined ? { since: query.since } : {}),
      ...(query.until !== undefined ? { until: query.until } : {}),
      ...(query.before !== undefined ? { before: query.before } : {}),
      limit: query.limit,
    });
    const ids = new Set<string>();
    for (const e of events) for (const id of [e.actor, e.subject, e.details.user]) if (typeof id === 'string' && isUuid(id)) ids.add(id);
    const users = await this.#options.storage.accounts.getUsersByIds([...ids] as UserId[]);
    const usernames = Object.fromEntries(users.map((u) => [u.id, u.username]));
    return { events, nextBefore: events.length === query.limit ? (events.at(-1)?.id ?? null) : null, usernames };
  }

  async #requireUser(id: UserId) {
    const user = await this.#options.storage.accounts.getUserById(id);
    if (!user) throw new OutpostError('notFound', 'no such user');
    return user;
  }
}
