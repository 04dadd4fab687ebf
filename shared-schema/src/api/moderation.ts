// Request and response bodies of moderation: locking a group to admins-only posting
// (PUT /api/conversations/:id/posting), reporting a message (POST /api/conversations/:id/reports)
// and the server administrators' view of reports (GET /api/admin/reports).
import { z } from 'zod';
import { Limits } from '../limits.ts';
import { isUuid } from '../names.ts';

const uuid = z.string().refine(isUuid, 'must be a UUID');

export const Posting = z.enum(['everyone', 'admins']);
export type Posting = z.infer<typeof Posting>;

export const SetPostingRequest = z.strictObject({ posting: Posting });
export type SetPostingRequest = z.infer<typeof SetPostingRequest>;

export const ReportRequest = z.strictObject({ messageId: uuid, reason: z.string().trim().min(1).max(Limits.reportReason) });
export type ReportRequest = z.infer<typeof ReportRequest>;

const ReportedMessage = z.object({
  id: z.string(),
  seq: z.number(),
  author: z.object({ id: z.string(), username: z.string(), displayName: z.string() }),
  createdAt: z.number(),
  body: z.string(),
  deleted: z.boolean(),
});
export type ReportedMessage = z.infer<typeof ReportedMessage>;

/** A report as a server administrator sees it: the message, a few around it, who and why. */
export const ReportView = z.object({
  id: z.string(),
  createdAt: z.number(),
  reason: z.string(),
  reporter: z.object({ id: z.string(), username: z.string(), displayName: z.string() }),
  conversation: z.object({ id: z.string(), kind: z.enum(['dm', 'group']), title: z.string() }),
  /** Null when the message is not in the read model (never numbered). */
  message: ReportedMessage.nullable(),
  /** Messages just before and after it, by seq. */
  context: z.array(ReportedMessage),
  resolvedAt: z.number().nullable(),
  resolvedBy: z.string().nullable(),
});
export type ReportView = z.infer<typeof ReportView>;

export const ReportList = z.object({ reports: z.array(ReportView) });
export type ReportList = z.infer<typeof ReportList>;
