// The audit log of security-relevant events, as the administrator reads it: the kinds of event
// and the filters of GET /api/admin/audit.
import { z } from 'zod';

/** Every kind of audited event. What `actor` and `subject` hold is said beside each. */
export const AuditKinds = {
  /** actor: the user; subject: the device. details: address, device. */
  'signIn.succeeded': true,
  /** actor: the user if the username exists, else null. details: username, reason, address. */
  'signIn.failed': true,
  /** actor: the user; subject: the new device. details: device name, address. */
  'device.added': true,
  /** actor: who signed it out; subject: the device. details: user, reason. */
  'device.signedOut': true,
  /** actor: the user; subject: the user. details: devicesSignedOut. */
  'password.changed': true,
  /** actor: the administrator; subject: the user. */
  'password.resetIssued': true,
  /** actor: the user; subject: the user. */
  'password.reset': true,
  /** actor and subject: the user. */
  'secondFactor.enabled': true,
  'secondFactor.disabled': true,
  /** actor and subject: the user. details: remaining recovery codes. */
  'secondFactor.recoveryCodeUsed': true,
  /** actor: the group owner; subject: the member. details: conversation, role. */
  'role.changed': true,
  /** actor: who added; subject: the member. details: conversation. */
  'member.added': true,
  /** actor: who removed (the member themselves when they left); subject: the member. details: conversation. */
  'member.removed': true,
  /** actor: the moderator; subject: the message. details: conversation, author. */
  'message.removedByModerator': true,
  /** actor: the administrator; subject: the user. details: devicesSignedOut. */
  'user.deactivated': true,
  'user.reactivated': true,
  /** actor: the administrator or the server (ADMIN_USERS); subject: the user. */
  'admin.granted': true,
  /** actor: the user; subject: the user. (Export and erase, issue 13.) */
  'account.exported': true,
  'account.erased': true,
  /** actor: the reporter; subject: the message. details: conversation. */
  'message.reported': true,
  /** actor: the owner or admin; subject: the conversation. */
  'group.locked': true,
  'group.unlocked': true,
} as const;
export type AuditKind = keyof typeof AuditKinds;

export function isAuditKind(value: unknown): value is AuditKind {
  return typeof value === 'string' && Object.hasOwn(AuditKinds, value);
}

/** Small facts beside an event: strings, numbers, booleans, never a secret or a message body. */
export type AuditDetails = Record<string, string | number | boolean | null>;

export const AuditEvent = z.object({
  id: z.number(),
  at: z.number(),
  kind: z.string(),
  actor: z.string().nullable(),
  subject: z.string().nullable(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
});
export type AuditEvent = z.infer<typeof AuditEvent>;

/** The filters of GET /api/admin/audit (query string). Events come newest first. */
export const AuditQuery = z.strictObject({
  /** Comma-separated kinds. */
  kind: z
    .string()
    .max(1_000)
    .optional()
    .transform((value) => (value ? value.split(',').filter(Boolean) : []))
    .refine((kinds) => kinds.every(isAuditKind), 'unknown audit kind'),
  /** Events where this user id is the actor or the subject (or is named in details.user). */
  user: z.string().max(64).optional(),
  /** From this time (ms since the epoch), inclusive. */
  since: z.coerce.number().int().nonnegative().optional(),
  /** Up to this time, exclusive. */
  until: z.coerce.number().int().nonnegative().optional(),
  /** Events with an id below this (the next page). */
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditPage = z.object({
  events: z.array(AuditEvent),
  nextBefore: z.number().nullable(),
  /** Usernames of the users the events name (actor, subject, details.user), by id. */
  usernames: z.record(z.string(), z.string()),
});
export type AuditPage = z.infer<typeof AuditPage>;
