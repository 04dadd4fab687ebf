// Request and response bodies of two-factor sign-in (/api/account/two-factor*), and how a login
// says it needs the second factor.
import { z } from 'zod';
import { Limits } from '../limits.ts';

/** A 6-digit authenticator code or a recovery code ("abcde-fghij"); spaces and dashes are ignored. */
export const SecondFactorCode = z.string().trim().min(6).max(32);

export const TwoFactorStatus = z.object({
  enabled: z.boolean(),
  /** Unused recovery codes (0 when disabled). */
  recoveryCodesLeft: z.number(),
});
export type TwoFactorStatus = z.infer<typeof TwoFactorStatus>;

export const TwoFactorEnrolment = z.object({
  /** Base32 secret, for typing into an authenticator app. */
  secret: z.string(),
  /** The otpauth:// URI the QR code holds. */
  uri: z.string(),
  /** The QR code as an SVG data: URL, ready for an <img>. */
  qrCode: z.string(),
});
export type TwoFactorEnrolment = z.infer<typeof TwoFactorEnrolment>;

export const ConfirmTwoFactorRequest = z.strictObject({ code: SecondFactorCode });
export type ConfirmTwoFactorRequest = z.infer<typeof ConfirmTwoFactorRequest>;

/** Shown once, right after enrolment: each code signs in once instead of an authenticator code. */
export const RecoveryCodes = z.object({ recoveryCodes: z.array(z.string()), signedOut: z.number() });
export type RecoveryCodes = z.infer<typeof RecoveryCodes>;

export const DisableTwoFactorRequest = z.strictObject({ password: z.string().max(Limits.passwordMax), code: SecondFactorCode });
export type DisableTwoFactorRequest = z.infer<typeof DisableTwoFactorRequest>;

/**
 * `details.secondFactor` of an `unauthorized` login or refresh: `required` — the account has
 * two-factor sign-in, send `code` with the username and password; `invalid` — the code was wrong
 * or already used.
 */
export const SecondFactorNeeds = { required: 'required', invalid: 'invalid' } as const;
export type SecondFactorNeed = keyof typeof SecondFactorNeeds;
