// Request and response bodies of /api/account/*: a user's own devices, password and second factor.
import { z } from 'zod';
import { Password } from './auth.ts';
import { Limits } from '../limits.ts';

export const DeviceSummary = z.object({
  id: z.string(),
  /** From the user agent, e.g. "Firefox on Linux". */
  name: z.string(),
  /** The address it was last seen from. */
  address: z.string(),
  createdAt: z.number(),
  lastSeenAt: z.number(),
  /** The device asking. */
  current: z.boolean(),
});
export type DeviceSummary = z.infer<typeof DeviceSummary>;

export const DeviceList = z.object({ devices: z.array(DeviceSummary) });
export type DeviceList = z.infer<typeof DeviceList>;

export const SignedOut = z.object({ signedOut: z.number() });
export type SignedOut = z.infer<typeof SignedOut>;

export const ChangePasswordRequest = z.strictObject({
  currentPassword: z.string().max(Limits.passwordMax),
  newPassword: Password,
});
export type ChangePasswordRequest = z.infer<typeof ChangePasswordRequest>;
