// The signed-in app: the connection notice, the conversation list beside the open conversation
// (or search), one of them at a time on a phone-sized screen; Ctrl/⌘+K jumps to a conversation;
// notifications and the unread count in the title run here for every screen.
import { useEffect, useState } from 'react';
import { useClient } from '../app/ClientContext.ts';
import { useLive } from '../app/useLive.ts';
import { useRoute } from '../app/route.ts';
import { useDirectNames } from '../app/useDirectNames.ts';
import { useNotifier } from '../app/useNotifier.ts';
import { useUnreadBadge } from '../app/useUnreadBadge.ts';
import { commandKey } from '../app/keys.ts';
import { dismissBootScreen } from '../app/bootScreen.ts';
import { ConnectionBanner } from '../components/ConnectionBanner.tsx';
import { Sidebar } from '../components/Sidebar.tsx';
import { NewDirectDialog } from '../components/NewDirectDialog.tsx';
import { NewGroupDialog } from '../components/NewGroupDialog.tsx';
import { ConversationSwitcher } from '../components/ConversationSwitcher.tsx';
import { ConversationScreen } from './ConversationScreen.tsx';
import { SearchScreen } from './SearchScreen.tsx';
import { AccountScreen } from './AccountScreen.tsx';
import { AdminScreen } from './AdminScreen.tsx';

export function MainScreen() {
  const client = useClient();
  const route = useRoute();
  const [dialog, setDialog] = useState<'direct' | 'group' | 'switcher' | null>(null);
  useDirectNames(client, useLive(client.conversations(), []));
  useNotifier(client);
  useUnreadBadge(client);
  const selectedId = route.name === 'conversation' ? route.conversationId : null;
  // The boot screen pictures a conversation: on any other screen (back, a link) it goes at once.
  useEffect(() => {
    if (route.name !== 'conversation') dismissBootScreen();
  }, [route.name]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (commandKey(event) && !event.shiftKey && event.key.toLowerCase() === 'k') {
        event.preventDefault();
        setDialog('switcher');
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className={`shell${route.name === 'home' ? '' : ' has-main'}`}>
      <h1 className="visually-hidden">Outpost</h1>
      <ConnectionBanner />
      <main className="panes">
        <Sidebar selectedId={selectedId} onNewDirect={() => setDialog('direct')} onNewGroup={() => setDialog('group')} />
        <div className="main-pane">
          {route.name === 'conversation' ? (
            <ConversationScreen key={route.conversationId} conversationId={route.conversationId} messageId={route.messageId} />
          ) : route.name === 'search' ? (
            <SearchScreen query={route.query} />
          ) : route.name === 'account' ? (
            <AccountScreen />
          ) : route.name === 'admin' ? (
            <AdminScreen />
          ) : (
            <div className="placeholder">
              <img src="/icon.svg" alt="" width={64} height={64} />
              <p>Pick a conversation, or start one with “New message”.</p>
              <p className="muted">Everything you do here works offline too.</p>
            </div>
          )}
        </div>
      </main>
      {dialog === 'direct' && <NewDirectDialog onClose={() => setDialog(null)} />}
      {dialog === 'group' && <NewGroupDialog onClose={() => setDialog(null)} />}
      {dialog === 'switcher' && <ConversationSwitcher onClose={() => setDialog(null)} />}
    </div>
  );
}
