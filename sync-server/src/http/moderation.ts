// The REST routes of moderation: lock a group (PUT /api/conversations/:id/posting), report a
// message (POST /api/conversations/:id/reports), and the server administrators' reports
// (GET /api/admin/reports?open=true|false, POST /api/admin/reports/:id/resolve).
import type { Context, Hono } from 'hono';
import { OutpostError, ReportRequest, SetPostingRequest, isUuid, type ConversationId, type MessageId, type UserId } from '@outpost/shared-schema';
import type { z } from 'zod';
import type { Moderation } from '../moderation.ts';
import type { Env } from './env.ts';
import { jsonBody } from './input.ts';

async function parsed<T extends z.ZodType>(c: Context, schema: T, hint: string): Promise<z.infer<T>> {
  const result = schema.safeParse(await jsonBody(c, hint));
  if (!result.success) {
    throw new OutpostError('invalidInput', `request body is not valid: ${hint}`, { issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
  }
  return result.data;
}

function conversationParam(c: Context): ConversationId {
  const id = c.req.param('id');
  if (!id || !isUuid(id)) throw new OutpostError('invalidInput', 'id must be a UUID');
  return id as ConversationId;
}

export function mountModerationRoutes(authed: Hono<Env>, moderation: Moderation): void {
  authed.put('/conversations/:id/posting', async (c) => {
    const { posting } = await parsed(c, SetPostingRequest, '{"posting": "everyone" | "admins"}');
    await moderation.setPosting(c.get('auth').userId as UserId, conversationParam(c), posting);
    return c.body(null, 204);
  });
  authed.post('/conversations/:id/reports', async (c) => {
    const { messageId, reason } = await parsed(c, ReportRequest, '{"messageId": "<uuid>", "reason": "…"}');
    const result = await moderation.report(c.get('auth').userId as UserId, conversationParam(c), messageId as MessageId, reason);
    return c.json(result, result.created ? 201 : 200);
  });
  authed.get('/admin/reports', async (c) => {
    const open = c.req.query('open') !== 'false';
    return c.json({ reports: await moderation.listReports(c.get('auth').userId as UserId, open) });
  });
  authed.post('/admin/reports/:id/resolve', async (c) => {
    const id = c.req.param('id');
    if (!isUuid(id)) throw new OutpostError('invalidInput', 'id must be a UUID');
    await moderation.resolve(c.get('auth').userId as UserId, id);
    return c.body(null, 204);
  });
}
