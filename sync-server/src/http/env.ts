// What every REST route sees: the verified access token's claims (set by the auth middleware),
// and the Node request underneath (for the peer address).
import type { IncomingMessage } from 'node:http';
import type { AccessClaims } from '../auth/tokens.ts';

export type Env = { Variables: { auth: AccessClaims }; Bindings: { incoming?: IncomingMessage } };
