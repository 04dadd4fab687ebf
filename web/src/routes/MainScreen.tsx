// The signed-in app: the connection banner, the conversation list beside the open conversation
// (or search), one of them at a time on a phone-sized screen.
import { useState } from 'react';
import { useClient } from '../app/ClientContext.ts';
import { useLive } from '../app/useLive.ts';
import { useRoute } from '../app/route.ts';
import { useDirectNames } from '../app/useDirectNames.ts';
import { ConnectionBanner } from '../components/ConnectionBanner.tsx';
import { Sidebar } from '../components/Sidebar.tsx';
import { NewDirectDialog } from '../components/NewDirectDialog.tsx';
import { NewGroupDialog } from '../components/NewGroupDialog.tsx';
import { ConversationScreen } from './ConversationScreen.tsx';
import { SearchScreen } from './SearchScreen.tsx';

export function MainScreen() {
  const client = useClient();
  const route = useRoute();
  const [dialog, setDialog] = useState<'direct' | 'group' | null>(null);
  useDirectNames(client, useLive(client.conversations(), []));
  const selectedId = route.name === 'conversation' ? route.conversationId : null;

  return (
    <div className={`shell${route.name === 'home' ? '' : ' has-main'}`}>
      <ConnectionBanner />
      <div className="panes">
        <Sidebar selectedId={selectedId} onNewDirect={() => setDialog('direct')} onNewGroup={() => setDialog('group')} />
        <main className="main-pane">
          {route.name === 'conversation' ? (
            <ConversationScreen key={route.conversationId} conversationId={route.conversationId} messageId={route.messageId} />
          ) : route.name === 'search' ? (
            <SearchScreen query={route.query} />
          ) : (
            <div className="placeholder">
              <img src="/icon.svg" alt="" width={64} height={64} />
              <p>Pick a conversation, or start one with “New message”.</p>
              <p className="muted">Everything you do here works offline too.</p>
            </div>
          )}
        </main>
      </div>
      {dialog === 'direct' && <NewDirectDialog onClose={() => setDialog(null)} />}
      {dialog === 'group' && <NewGroupDialog onClose={() => setDialog(null)} />}
    </div>
  );
}
