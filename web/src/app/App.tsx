// The app's root: resumes a stored session (offline too), or shows sign-in; the SDK keeps the
// session saved as tokens rotate; logout wipes local state, and a logout made offline signs the
// session out on the server when the network returns. A session that ran out asks for a sign-in
// and keeps local state.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Session } from '@outpost/shared-schema';
import { ClientContext, type SignedIn } from './ClientContext.ts';
import { forgetSession, loadSession, saveSession } from './storedSession.ts';
import { serverUrl, startClient, type Started } from './startClient.ts';
import { keepSendingQueuedLogouts, queueLogout } from './pendingLogout.ts';
import { forgetPeople, openPeople } from './people.ts';
import { forgetDrafts } from './drafts.ts';
import { forgetNotificationPrompt } from './notifications.ts';
import { dismissBootScreen, forgetBootScreen } from './bootScreen.ts';
import { SignInScreen } from '../routes/SignInScreen.tsx';
import { MainScreen } from '../routes/MainScreen.tsx';

type State = { phase: 'starting' } | { phase: 'signedOut'; notice?: string } | ({ phase: 'signedIn' } & Started);

export function App() {
  const [state, setState] = useState<State>(() => (loadSession() ? { phase: 'starting' } : { phase: 'signedOut' }));

  const start = useCallback(async (session: Session) => {
    saveSession(session);
    openPeople(session.user);
    try {
      setState({ phase: 'signedIn', ...(await startClient(session)) });
    } catch (error) {
      console.error('outpost: cannot open the local replica', error);
      setState({ phase: 'signedOut', notice: `This browser cannot keep Outpost's data: ${(error as Error).message}` });
    }
  }, []);

  useEffect(() => keepSendingQueuedLogouts(serverUrl()), []);

  const resumed = useRef(false);
  useEffect(() => {
    // Once per page load (StrictMode runs effects twice in development).
    if (resumed.current) return;
    resumed.current = true;
    const session = loadSession();
    if (session) void start(session);
  }, [start]);

  const started = state.phase === 'signedIn' ? state : null;
  const signedIn = useMemo<SignedIn | null>(() => {
    if (!started) return null;
    const { client, replica, stopSaving } = started;
    return {
      client,
      replica,
      erased: () => {
        const userId = client.user.id;
        stopSaving();
        forgetSession();
        forgetDrafts(userId);
        forgetPeople(userId);
        forgetNotificationPrompt(userId);
        forgetBootScreen();
        history.replaceState(null, '', '/');
        setState({ phase: 'signedOut', notice: 'Your account was erased. Your messages’ text is gone, and you are signed out everywhere.' });
      },
      logout: async (ended?: string) => {
        const userId = client.user.id;
        const { refreshToken } = client.session;
        stopSaving();
        forgetSession();
        forgetDrafts(userId);
        forgetPeople(userId);
        forgetNotificationPrompt(userId);
        forgetBootScreen();
        history.replaceState(null, '', '/');
        setState({ phase: 'signedOut', notice: ended ?? 'You are signed out. This device no longer holds your messages.' });
        try {
          // A session the server already ended needs no revoking.
          await client.logout({ revoke: ended === undefined });
        } catch (error) {
          // The local replica is gone either way; the server hears of the logout when it can.
          console.warn('outpost: could not reach the server to revoke the session; it is queued', error);
          queueLogout(refreshToken);
        }
      },
    };
  }, [started]);

  // Signed out elsewhere (another device, a password change, an administrator): local state goes
  // as with a logout, and the sign-in screen says why.
  useEffect(() => {
    if (!started || !signedIn) return;
    return started.client.onSignedOut(() => {
      void signedIn.logout('This device was signed out: from another device, by a password change, or by an administrator. Sign in again.');
    });
  }, [started, signedIn]);

  // The session ran out (weeks without reaching the server): the user signs in again, and
  // nothing on this device is dropped; the next session of the same user sends what waits.
  useEffect(() => {
    if (!started) return;
    return started.client.onSessionExpired(() => {
      const { username } = started.client.user;
      started.stopSaving();
      forgetSession();
      started.client.close();
      started.replica.close();
      setState({ phase: 'signedOut', notice: `Your session on this device ran out while it was away. Sign in again as @${username}: what you wrote here is kept, and sent once you are signed in.` });
    });
  }, [started]);

  // Signed out, the picture of a conversation has nothing to stand for.
  useEffect(() => {
    if (state.phase === 'signedOut') dismissBootScreen();
  }, [state.phase]);

  if (state.phase === 'starting') return <p className="splash" role="status">Opening Outpost…</p>;
  if (state.phase === 'signedOut' || !signedIn) {
    return <SignInScreen onSignedIn={start} notice={state.phase === 'signedOut' ? state.notice : undefined} />;
  }
  return (
    <ClientContext.Provider value={signedIn}>
      <MainScreen />
    </ClientContext.Provider>
  );
}
