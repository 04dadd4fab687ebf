// Request and response bodies of /api/auth/*.
import { z } from 'zod';
import { Limits } from '../limits.ts';

export const Username = z
  .string()
  .min(3)
  .max(Limits.username)
  .regex(/^[a-z0-9_.-]+$/, 'lowercase letters, digits, dot, dash and underscore only');

export const Password = z.string().min(Limits.passwordMin).max(Limits.passwordMax);

export const RegisterRequest = z.strictObject({
  username: Username,
  password: Password,
  displayName: z.string().trim().min(1).max(64).optional(),
});
export type RegisterRequest = z.infer<typeof RegisterRequest>;

export const LoginRequest = z.strictObject({
  username: z.string().max(Limits.username),
  password: z.string().max(Limits.passwordMax),
  /** The second factor (authenticator or recovery code), for accounts that have one. */
  code: z.string().trim().max(32).optional(),
});
export type LoginRequest = z.infer<typeof LoginRequest>;

export const RefreshRequest = z.strictObject({ refreshToken: z.string().min(1).max(512) });
export type RefreshRequest = z.infer<typeof RefreshRequest>;

/**
 * How a refused refresh says the session ended (`details.session` of the `unauthorized` error):
 * `expired` when it ran out or is not known (nothing of the device's is suspect: sign in again and
 * carry on), `revoked` when it was ended (signed out from elsewhere, a refresh token presented
 * twice, the account deactivated or erased, a second factor now required).
 */
export const SessionEnds = { expired: 'expired', revoked: 'revoked' } as const;
export type SessionEnd = (typeof SessionEnds)[keyof typeof SessionEnds];

export const LogoutRequest = RefreshRequest;
export type LogoutRequest = z.infer<typeof LogoutRequest>;

export const PublicUser = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
});
export type PublicUser = z.infer<typeof PublicUser>;

export const Session = z.object({
  user: PublicUser,
  accessToken: z.string(),
  /** Seconds until the access token expires. */
  expiresIn: z.number(),
  refreshToken: z.string(),
  /** This sign-in's device id: the key of its read positions in the user document. */
  deviceId: z.string(),
});
export type Session = z.infer<typeof Session>;
