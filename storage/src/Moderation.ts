// Moderation's tables: who may post in a group (everyone, or only its owner and admins), and
// the reports members send the server administrators about messages.
import type { ConversationId, MessageId, Posting, UserId } from '@outpost/shared-schema';

export interface ReportRecord {
  id: string;
  conversationId: ConversationId;
  messageId: MessageId;
  reporter: UserId;
  reason: string;
  createdAt: number;
  resolvedBy: UserId | null;
  resolvedAt: number | null;
}

export interface Moderation {
  /** Who may post in the conversation ('everyone' for an unknown one). */
  getPosting(conversationId: ConversationId): Promise<Posting>;
  /** Returns false when there is no such conversation. */
  setPosting(conversationId: ConversationId, posting: Posting): Promise<boolean>;
  /**
   * Files a report. One report per reporter and message: reporting again returns the first one
   * (`created` false) unchanged.
   */
  createReport(report: Omit<ReportRecord, 'resolvedBy' | 'resolvedAt'>): Promise<{ created: boolean; report: ReportRecord }>;
  /** Reports, newest first: the open ones, or all of them. */
  listReports(options: { open: boolean; limit: number }): Promise<ReportRecord[]>;
  getReport(id: string): Promise<ReportRecord | null>;
  /** Marks a report handled; false when there is no such open report. */
  resolveReport(id: string, by: UserId, now: number): Promise<boolean>;
}
