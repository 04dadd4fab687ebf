// The REST routes of a person's own data: download everything (GET /api/users/me/export) and
// erase the account (POST /api/users/me/erase, confirmed with the password).
import type { Hono } from 'hono';
import { EraseAccountRequest, OutpostError, type UserId } from '@outpost/shared-schema';
import type { AccountPrivacy } from '../privacy.ts';
import type { Env } from './env.ts';
import { jsonBody } from './input.ts';

export function mountAccountRoutes(authed: Hono<Env>, privacy: AccountPrivacy): void {
  authed.get('/users/me/export', async (c) => {
    const archive = await privacy.exportArchive(c.get('auth').userId as UserId);
    const day = new Date(archive.exportedAt).toISOString().slice(0, 10);
    c.header('Content-Disposition', `attachment; filename="outpost-${archive.account.username}-${day}.json"`);
    c.header('Cache-Control', 'no-store');
    return c.json(archive);
  });

  authed.post('/users/me/erase', async (c) => {
    const request = EraseAccountRequest.safeParse(await jsonBody(c, '{"password": "…"}'));
    if (!request.success) throw new OutpostError('invalidInput', 'send {"password": "…"} to confirm erasing the account', { field: 'password' });
    await privacy.erase(c.get('auth').userId as UserId, request.data.password);
    return c.body(null, 204);
  });
}
