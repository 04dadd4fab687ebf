// Request and response bodies of /api/conversations*.
import { z } from 'zod';
import { Limits } from '../limits.ts';
import { isUuid } from '../names.ts';

const uuid = z.string().refine(isUuid, 'must be a UUID');

export const CreateConversationRequest = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('dm'), userId: uuid }),
  z.strictObject({
    kind: z.literal('group'),
    title: z.string().trim().min(1).max(Limits.title),
    memberIds: z.array(uuid).max(Limits.groupMembers - 1),
  }),
]);
export type CreateConversationRequest = z.infer<typeof CreateConversationRequest>;

export const AddMembersRequest = z.strictObject({ userIds: z.array(uuid).min(1).max(Limits.groupMembers) });
export type AddMembersRequest = z.infer<typeof AddMembersRequest>;

export const RenameRequest = z.strictObject({ title: z.string().trim().min(1).max(Limits.title) });
export type RenameRequest = z.infer<typeof RenameRequest>;

export const SetRoleRequest = z.strictObject({ role: z.enum(['admin', 'member']) });
export type SetRoleRequest = z.infer<typeof SetRoleRequest>;

export const ConversationSummary = z.object({
  id: z.string(),
  kind: z.enum(['dm', 'group']),
  title: z.string(),
  createdBy: z.string(),
  createdAt: z.number(),
  members: z.array(z.object({ userId: z.string(), role: z.enum(['owner', 'admin', 'member']) })),
  lastSeq: z.number(),
});
export type ConversationSummary = z.infer<typeof ConversationSummary>;

export const ConversationList = z.object({ conversations: z.array(ConversationSummary) });
export type ConversationList = z.infer<typeof ConversationList>;

/** Where a message lives (GET /api/conversations/:id/messages/:messageId): a deep link opens its segment first. */
export const MessagePlace = z.object({ segment: z.number().int().nonnegative(), seq: z.number().int().positive() });
export type MessagePlace = z.infer<typeof MessagePlace>;
