// Request and response bodies of /api/admin/* (server administrators only) and of the password
// reset that an administrator's code allows (/api/auth/reset).
import { z } from 'zod';
import { Password } from './auth.ts';

export const AccountOverview = z.object({
  /** True for server administrators: the first account created, or one named by ADMIN_USERS. */
  serverAdmin: z.boolean(),
});
export type AccountOverview = z.infer<typeof AccountOverview>;

export const AdminUser = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  createdAt: z.number(),
  deactivatedAt: z.number().nullable(),
  serverAdmin: z.boolean(),
  /** Whether the account signs in with a second factor. */
  twoFactor: z.boolean(),
});
export type AdminUser = z.infer<typeof AdminUser>;

export const AdminUserQuery = z.strictObject({
  q: z.string().trim().max(64).optional(),
  /** The last username of the previous page. */
  after: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type AdminUserQuery = z.infer<typeof AdminUserQuery>;

export const AdminUserList = z.object({ users: z.array(AdminUser), nextAfter: z.string().nullable() });
export type AdminUserList = z.infer<typeof AdminUserList>;

export const DeactivationResult = z.object({ signedOut: z.number() });
export type DeactivationResult = z.infer<typeof DeactivationResult>;

export const PasswordResetIssued = z.object({
  /** The one-time code; null when the mailer delivered it to the user itself. */
  code: z.string().nullable(),
  /** A link to the web app's reset form with the code in it (null with the code). */
  link: z.string().nullable(),
  expiresAt: z.number(),
  /** True when the Mailer sent it to the user; false: give the code or link to them yourself. */
  delivered: z.boolean(),
});
export type PasswordResetIssued = z.infer<typeof PasswordResetIssued>;

export const ResetPasswordRequest = z.strictObject({ code: z.string().trim().min(8).max(64), newPassword: Password });
export type ResetPasswordRequest = z.infer<typeof ResetPasswordRequest>;

export const ServerStats = z.object({
  users: z.number(),
  deactivatedUsers: z.number(),
  signedInDevices: z.number(),
  conversations: z.number(),
  messages: z.number(),
  /** WebSockets open on the node that answered. */
  connectionsOnThisNode: z.number(),
  /** Seconds since that node started. */
  uptimeSeconds: z.number(),
  nodeVersion: z.string(),
});
export type ServerStats = z.infer<typeof ServerStats>;
