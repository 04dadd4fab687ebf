// @outpost/shared-schema: the one definition of names, documents, REST bodies, errors and
// limits that the server and the SDK both use.
export * from './names.ts';
export * from './errors.ts';
export * from './limits.ts';
export * from './version.ts';
export * from './docs/conversation.ts';
export * from './docs/serverClients.ts';
export * from './docs/server.ts';
export * from './docs/user.ts';
export * from './docs/inbox.ts';
export * from './api/auth.ts';
export * from './api/users.ts';
export * from './api/conversations.ts';
export * from './api/privacy.ts';
export * from './api/moderation.ts';
export * from './api/audit.ts';
export * from './api/search.ts';
export * from './api/account.ts';
export * from './api/twoFactor.ts';
export * from './api/admin.ts';
