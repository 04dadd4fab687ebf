// The REST API. Hono: Web-standard Request/Response, typed routes, small, with CORS and security
// headers built in, and it runs on the same Node http.Server as the /sync WebSocket endpoint.
import proxyaddr from 'proxy-addr';
import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import type { z } from 'zod';
import {
  AddMembersRequest,
  AdminUserQuery,
  AuditQuery,
  ResetPasswordRequest,
  ChangePasswordRequest,
  ConfirmTwoFactorRequest,
  DisableTwoFactorRequest,
  CreateConversationRequest,
  LoginRequest,
  LogoutRequest,
  OutpostError,
  RefreshRequest,
  RegisterRequest,
  RenameRequest,
  SearchLimits,
  SearchParams,
  SetRoleRequest,
  UserSearchQuery,
  isUuid,
  type ConversationId,
  type MessageId,
  type UserId,
} from '@outpost/shared-schema';
import type { Storage } from '@outpost/storage';
import type { AccountSecurity } from '../auth/accountSecurity.ts';
import type { TwoFactor } from '../auth/twoFactor.ts';
import type { Administrators } from '../admin/Administrators.ts';
import { publicUser, type ClientInfo, type Sessions } from '../auth/sessions.ts';
import type { TokenSigner } from '../auth/tokens.ts';
import type { Conversations } from '../conversations.ts';
import type { Logger } from '../log.ts';
import type { Redis } from 'ioredis';
import { RateLimiter, RateLimits, authPerAddressPolicy } from '../rateLimiter.ts';
import type { AccessControl } from '../sync/access.ts';
import type { FileService } from '../files/FileService.ts';
import type { Env } from './env.ts';
import { jsonBody, refuseNulInUrl } from './input.ts';
import { mountFileRoutes } from './files.ts';
import { mountAccountRoutes } from './account.ts';
import { mountModerationRoutes } from './moderation.ts';
import type { Moderation } from '../moderation.ts';
import type { AccountPrivacy } from '../privacy.ts';
import { countRequests, logRequests, traceRequests, mountMetrics, mountProbes, type ReadinessDeps } from './operations.ts';
import type { MetricsAccess } from '../config.ts';

export interface AppDeps {
  storage: Storage;
  sessions: Sessions;
  account: AccountSecurity;
  twoFactor: TwoFactor;
  admins: Administrators;
  /** PUBLIC_URL: where people reach the web app (links in password resets); else the request's origin. */
  publicUrl: string | undefined;
  signer: TokenSigner;
  access: AccessControl;
  conversations: Conversations;
  files: FileService;
  privacy: AccountPrivacy;
  moderation: Moderation;
  corsOrigins: string[];
  /** Where rate limits are counted when several nodes share them (null: in memory). */
  redis: Redis | null;
  /** Sign-in and sign-up attempts per address per minute (AUTH_ATTEMPTS_PER_ADDRESS). */
  authAttemptsPerAddress: number;
  /** Proxies whose X-Forwarded-For is believed (Config.trustProxy). */
  trustProxy: readonly string[];
  log: Logger;
  /** What /ready checks, and who may read /metrics. */
  operations: { readiness: ReadinessDeps; metrics: MetricsAccess };
  /** Brings the search index up to date off the event loop before a search (SQLite's worker); absent, the search does it. */
  indexSearch?: () => Promise<void>;
}


/**
 * The client's address, the key of per-address rate limits: the peer's, or behind trusted
 * proxies (TRUST_PROXY) the last address in X-Forwarded-For that they did not add themselves —
 * without it, every client behind a load balancer would share one limit.
 */
function addressOf(trusted: (address: string, hop: number) => boolean): (c: Context<Env>) => string {
  return (c) => {
    const incoming = c.env?.incoming;
    if (!incoming?.socket?.remoteAddress) return 'unknown';
    return proxyaddr(incoming, trusted);
  };
}

async function body<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const result = schema.safeParse(await jsonBody(c));
  if (!result.success) {
    throw new OutpostError('invalidInput', 'request body is not valid', {
      issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return result.data;
}

function parseQuery<T extends z.ZodType>(c: Context, schema: T): z.infer<T> {
  const result = schema.safeParse(c.req.query());
  if (!result.success) {
    throw new OutpostError('invalidInput', 'query parameters are not valid', {
      issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return result.data;
}

function uuidParam(c: Context, name: string): string {
  const value = c.req.param(name);
  if (!isUuid(value)) throw new OutpostError('invalidInput', `${name} must be a UUID`);
  return value;
}

export function createApp(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  // A request id (the proxy's X-Request-Id when it sends a sane one) on every log line of the request, and in the answer.
  app.use('*', requestId());
  app.use('*', traceRequests());
  app.use('*', countRequests());
  app.use('*', logRequests(deps.log));
  app.use('*', secureHeaders());
  app.use('/api/*', refuseNulInUrl());
  if (deps.corsOrigins.length > 0) app.use('/api/*', cors({ origin: deps.corsOrigins, credentials: false, exposeHeaders: ['Date'] }));

  app.onError((error, c) => {
    if (error instanceof OutpostError) {
      const retryAfterMs = error.details?.retryAfterMs;
      if (typeof retryAfterMs === 'number') c.header('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
      return c.json(error.toBody(), error.status as 400);
    }
    deps.log.error('request failed', { requestId: c.get('requestId'), userId: c.get('auth')?.userId, method: c.req.method, path: c.req.path, error });
    return c.json(new OutpostError('internal', 'internal error; it was logged').toBody(), 500);
  });
  app.notFound((c) => c.json(new OutpostError('notFound', `no route for ${c.req.method} ${c.req.path}`).toBody(), 404));

  mountProbes(app, deps.operations.readiness);
  mountMetrics(app, deps.operations.metrics);

  const address = addressOf(proxyaddr.compile([...deps.trustProxy]));
  const clientOf = (c: Context<Env>): ClientInfo => ({ address: address(c), userAgent: (c.req.header('user-agent') ?? '').slice(0, 512) });
  const authPerAddress = new RateLimiter('sign-in attempts from this address', authPerAddressPolicy(deps.authAttemptsPerAddress), deps.redis);
  const loginPerUser = new RateLimiter('sign-in attempts for this user', RateLimits.loginPerUser, deps.redis);
  app.post('/api/auth/register', async (c) => {
    await authPerAddress.take(address(c));
    return c.json(await deps.sessions.register(await body(c, RegisterRequest), clientOf(c)), 201);
  });
  app.post('/api/auth/login', async (c) => {
    await authPerAddress.take(address(c));
    const request = await body(c, LoginRequest);
    await loginPerUser.take(request.username.toLowerCase());
    return c.json(await deps.sessions.login(request, clientOf(c)));
  });
  app.post('/api/auth/refresh', async (c) => c.json(await deps.sessions.refresh((await body(c, RefreshRequest)).refreshToken, clientOf(c))));
  app.post('/api/auth/reset', async (c) => {
    await authPerAddress.take(address(c));
    await deps.admins.resetPassword(await body(c, ResetPasswordRequest));
    return c.body(null, 204);
  });
  app.post('/api/auth/logout', async (c) => {
    await deps.sessions.logout((await body(c, LogoutRequest)).refreshToken);
    return c.body(null, 204);
  });

  const authed = new Hono<Env>();
  authed.use('*', async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (!match?.[1]) throw new OutpostError('unauthorized', 'send Authorization: Bearer <access token>');
    const claims = await deps.signer.verify(match[1]);
    if (!(await deps.access.sessionActive(claims.deviceId))) throw new OutpostError('unauthorized', 'this session was signed out; sign in again');
    c.set('auth', claims);
    await deps.sessions.seen(claims.deviceId, address(c));
    await next();
  });

  authed.get('/users/me', async (c) => {
    const user = await deps.storage.accounts.getUserById(c.get('auth').userId);
    if (!user) throw new OutpostError('unauthorized', 'user no longer exists');
    return c.json(publicUser(user));
  });
  authed.get('/account/devices', async (c) => {
    const { userId, deviceId } = c.get('auth');
    return c.json({ devices: await deps.account.devices(userId, deviceId) });
  });
  authed.delete('/account/devices/:id', async (c) => {
    await deps.account.signOutDevice(c.get('auth').userId, uuidParam(c, 'id'));
    return c.body(null, 204);
  });
  authed.post('/account/devices/sign-out-others', async (c) => {
    const { userId, deviceId } = c.get('auth');
    return c.json({ signedOut: await deps.account.signOutOthers(userId, deviceId) });
  });
  const passwordChecks = new RateLimiter('password checks for this user', RateLimits.loginPerUser, deps.redis);
  authed.post('/account/password', async (c) => {
    const { userId, deviceId } = c.get('auth');
    const request = await body(c, ChangePasswordRequest);
    await passwordChecks.take(userId);
    return c.json({ signedOut: await deps.account.changePassword(userId, deviceId, request) });
  });

  authed.get('/account/two-factor', async (c) => c.json(await deps.twoFactor.status(c.get('auth').userId)));
  authed.post('/account/two-factor', async (c) => {
    const user = await deps.storage.accounts.getUserById(c.get('auth').userId);
    if (!user) throw new OutpostError('unauthorized', 'user no longer exists');
    return c.json(await deps.twoFactor.begin(user.id, user.username));
  });
  authed.post('/account/two-factor/confirm', async (c) => {
    const { userId, deviceId } = c.get('auth');
    return c.json(await deps.twoFactor.confirm(userId, deviceId, (await body(c, ConfirmTwoFactorRequest)).code));
  });
  authed.post('/account/two-factor/disable', async (c) => {
    await deps.twoFactor.disable(c.get('auth').userId, await body(c, DisableTwoFactorRequest));
    return c.body(null, 204);
  });

  authed.get('/account', async (c) => c.json({ serverAdmin: await deps.admins.isAdmin(c.get('auth').userId) }));

  const admin = new Hono<Env>();
  admin.use('*', async (c, next) => {
    await deps.admins.require(c.get('auth').userId);
    await next();
  });
  admin.get('/users', async (c) => c.json(await deps.admins.listUsers(parseQuery(c, AdminUserQuery))));
  admin.post('/users/:id/deactivate', async (c) => c.json({ signedOut: await deps.admins.deactivate(c.get('auth').userId, uuidParam(c, 'id') as UserId) }));
  admin.post('/users/:id/reactivate', async (c) => {
    await deps.admins.reactivate(c.get('auth').userId, uuidParam(c, 'id') as UserId);
    return c.body(null, 204);
  });
  admin.post('/users/:id/two-factor/disable', async (c) => {
    await deps.admins.disableTwoFactor(c.get('auth').userId, uuidParam(c, 'id') as UserId);
    return c.body(null, 204);
  });
  admin.post('/users/:id/password-reset', async (c) => {
    const origin = deps.publicUrl ?? new URL(c.req.url).origin;
    return c.json(await deps.admins.issuePasswordReset(c.get('auth').userId, uuidParam(c, 'id') as UserId, origin), 201);
  });
  admin.get('/stats', async (c) =>
    c.json({
      ...(await deps.admins.counts()),
      connectionsOnThisNode: deps.access.openSockets,
      uptimeSeconds: Math.round(process.uptime()),
      nodeVersion: process.version,
    }),
  );
  admin.get('/audit', async (c) => c.json(await deps.admins.auditLog(parseQuery(c, AuditQuery))));
  authed.route('/admin', admin);

  authed.get('/users', async (c) => {
    const query = UserSearchQuery.safeParse({ q: c.req.query('q') ?? '' });
    if (!query.success) throw new OutpostError('invalidInput', 'q must be 1 to 64 characters');
    const users = await deps.storage.accounts.searchUsers(query.data.q, 20);
    return c.json({ users: users.map(publicUser) });
  });

  authed.post('/conversations', async (c) => {
    const result = await deps.conversations.create(c.get('auth').userId, await body(c, CreateConversationRequest));
    return c.json(result.conversation, result.created ? 201 : 200);
  });
  authed.get('/conversations', async (c) => c.json({ conversations: await deps.conversations.list(c.get('auth').userId) }));
  authed.get('/conversations/:id', async (c) =>
    c.json(await deps.conversations.get(c.get('auth').userId, uuidParam(c, 'id') as ConversationId)),
  );
  authed.get('/conversations/:id/messages/:messageId', async (c) =>
    c.json(await deps.conversations.place(c.get('auth').userId, uuidParam(c, 'id') as ConversationId, uuidParam(c, 'messageId') as MessageId)),
  );
  authed.patch('/conversations/:id', async (c) => {
    const { title } = await body(c, RenameRequest);
    return c.json(await deps.conversations.rename(c.get('auth').userId, uuidParam(c, 'id') as ConversationId, title));
  });
  authed.post('/conversations/:id/members', async (c) => {
    const request = await body(c, AddMembersRequest);
    const id = uuidParam(c, 'id') as ConversationId;
    return c.json(await deps.conversations.addMembers(c.get('auth').userId, id, request.userIds as UserId[]));
  });
  authed.patch('/conversations/:id/members/:userId', async (c) => {
    const { role } = await body(c, SetRoleRequest);
    const id = uuidParam(c, 'id') as ConversationId;
    await deps.conversations.setRole(c.get('auth').userId, id, uuidParam(c, 'userId') as UserId, role);
    return c.body(null, 204);
  });
  authed.delete('/conversations/:id/members/:userId', async (c) => {
    const id = uuidParam(c, 'id') as ConversationId;
    await deps.conversations.removeMember(c.get('auth').userId, id, uuidParam(c, 'userId') as UserId);
    return c.body(null, 204);
  });

  const searches = new RateLimiter('searches by this user', RateLimits.searchesPerUser, deps.redis);
  authed.get('/search', async (c) => {
    const userId = c.get('auth').userId;
    await searches.take(userId);
    const parsed = SearchParams.safeParse(c.req.query());
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      throw new OutpostError('invalidInput', `bad search: ${issues.map((i) => `${i.path || 'query'} ${i.message}`).join('; ')}`, { issues });
    }
    const p = parsed.data;
    // A failure here leaves the queue to the search itself, which indexes what waits.
    await deps.indexSearch?.().catch((error: unknown) => deps.log.warn('search: the worker could not index what waits; the search does', { error }));
    const page = await deps.storage.search.search({
      userId,
      text: p.q,
      ...(p.conversation !== undefined ? { conversationId: p.conversation as ConversationId } : {}),
      ...(p.from !== undefined ? { from: p.from as UserId } : {}),
      ...(p.before !== undefined ? { before: p.before } : {}),
      ...(p.after !== undefined ? { after: p.after } : {}),
      ...(p.has === 'file' ? { hasFile: true } : {}),
      offset: p.offset ?? 0,
      limit: p.limit ?? SearchLimits.defaultPageSize,
    });
    return c.json(page);
  });

  mountFileRoutes(authed, deps.files);
  mountAccountRoutes(authed, deps.privacy);
  mountModerationRoutes(authed, deps.moderation);

  app.route('/api', authed);
  return app;
}
