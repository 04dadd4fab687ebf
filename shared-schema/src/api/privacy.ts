// Request and response bodies of a person's own data: the export archive
// (GET /api/users/me/export) and erasing the account (POST /api/users/me/erase).
import { z } from 'zod';
import { Limits } from '../limits.ts';

/** Erasing an account is confirmed with its password (a stolen session alone cannot do it). */
export const EraseAccountRequest = z.strictObject({ password: z.string().min(1).max(Limits.passwordMax) });
export type EraseAccountRequest = z.infer<typeof EraseAccountRequest>;

/** The archive's format name and version, so a reader knows what it holds. */
export const EXPORT_FORMAT = 'outpost-account-export' as const;
export const EXPORT_VERSION = 1 as const;

export const AccountExport = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  exportedAt: z.number(),
  account: z.object({ id: z.string(), username: z.string(), displayName: z.string(), createdAt: z.number() }),
  /** Signed-in devices (refresh-token families), active or not. */
  sessions: z.array(z.object({ id: z.string(), createdAt: z.number(), lastUsedAt: z.number(), expiresAt: z.number(), active: z.boolean() })),
  /** Conversations they are in now, with who else is in them. */
  conversations: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(['dm', 'group']),
      title: z.string(),
      createdAt: z.number(),
      role: z.enum(['owner', 'admin', 'member']),
      members: z.array(z.object({ userId: z.string(), username: z.string(), displayName: z.string() })),
    }),
  ),
  /** Messages they wrote (in any conversation, also ones they left), with edits and reactions. */
  messages: z.array(
    z.object({
      conversationId: z.string(),
      id: z.string(),
      seq: z.number(),
      createdAt: z.number(),
      /** The text as first sent ('' once deleted). */
      sentBody: z.string(),
      /** The text as it reads now, after edits ('' once deleted). */
      body: z.string(),
      editedAt: z.number().nullable(),
      deletedAt: z.number().nullable(),
      replyTo: z.string().nullable(),
      /** emoji → user ids who reacted (conversations they are still in). */
      reactions: z.record(z.string(), z.array(z.string())),
    }),
  ),
  /** Their own reactions to messages, in conversations they are still in. */
  reactions: z.array(z.object({ conversationId: z.string(), messageId: z.string(), emoji: z.string(), at: z.number() })),
  /** Files they uploaded; `path` is where the API serves the original to members. */
  files: z.array(
    z.object({
      id: z.string(),
      conversationId: z.string(),
      name: z.string(),
      type: z.string(),
      size: z.number(),
      createdAt: z.number(),
      messageId: z.string().nullable(),
      path: z.string(),
    }),
  ),
});
export type AccountExport = z.infer<typeof AccountExport>;
