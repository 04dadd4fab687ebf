// Request and response bodies of /api/users*.
import { z } from 'zod';
import { PublicUser } from './auth.ts';

export const UserSearchQuery = z.object({ q: z.string().trim().min(1).max(64) });

export const UserList = z.object({ users: z.array(PublicUser) });
export type UserList = z.infer<typeof UserList>;
