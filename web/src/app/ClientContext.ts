// The signed-in user's OutpostClient, handed to every screen through React context.
import { createContext, useContext } from 'react';
import type { IndexedDbReplica, OutpostClient } from '@outpost/client';

export interface SignedIn {
  client: OutpostClient;
  /** The replica on this device (its storage status is shown when space runs out). */
  replica: IndexedDbReplica;
  /** Signs out: revokes the session and wipes this device's replica. */
  /** Signs out; `ended` (the reason shown) when the server already ended the session. */
  logout(ended?: string): Promise<void>;
  /** The account was erased (the SDK wiped the replica): forget everything and show why. */
  erased(): void;
}

export const ClientContext = createContext<SignedIn | null>(null);

export function useSignedIn(): SignedIn {
  const value = useContext(ClientContext);
  if (!value) throw new Error('useSignedIn outside a signed-in screen');
  return value;
}

export function useClient(): OutpostClient {
  return useSignedIn().client;
}
