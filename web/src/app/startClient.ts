// Starting the SDK for a session: the user's IndexedDB replica first, so a cold start offline
// shows everything stored, then the client (which connects when it can).
import { IndexedDbReplica, OutpostClient } from '@outpost/client';
import type { Session } from '@outpost/shared-schema';
import { openSessionStore } from './storedSession.ts';
import { setClock } from './time.ts';

export const serverUrl = (): string => location.origin;

export interface Started {
  client: OutpostClient;
  replica: IndexedDbReplica;
  /** Stops saving rotated sessions (on logout). */
  stopSaving(): void;
}

export async function startClient(session: Session): Promise<Started> {
  // The search index lives in a worker: a cold start loads it beside the messages on screen. It
  // starts first, so its script loads while the replica opens.
  const worker = new Worker(new URL('./searchWorker.ts', import.meta.url), { type: 'module' });
  let replica: IndexedDbReplica;
  try {
    replica = await IndexedDbReplica.open({ userId: session.user.id });
  } catch (error) {
    worker.terminate();
    throw error;
  }
  const sessionStore = openSessionStore();
  // The whole history reaches the replica (offline, searchable); memory holds what is on screen.
  const client = await OutpostClient.resume({ url: serverUrl(), persistence: replica, sessionStore, history: 'replica', searchWorker: () => worker }, session);
  // Times in the app are judged on the server's clock, as this client knows it.
  setClock(() => client.serverNow());
  return { client, replica, stopSaving: sessionStore.close };
}

/**
 * Signs in (or up) and returns the session. The replica is per user, so the user must be known
 * before it opens: the short-lived client that signs in is closed at once.
 */
export async function signIn(mode: 'login' | 'register', request: { username: string; password: string; displayName?: string; code?: string }): Promise<Session> {
  const options = { url: serverUrl(), backfill: false };
  const client = mode === 'login' ? await OutpostClient.login(options, request) : await OutpostClient.register(options, request);
  const session = client.session;
  client.close();
  return session;
}
