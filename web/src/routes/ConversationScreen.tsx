// One conversation: header with its members, the message history, typing, and the composer.
// Opened by id from the address bar (also a cold start offline); an unknown or forbidden id, or a
// conversation you were removed from, says so. Opening it lands at the first unread message and
// puts the focus in the composer (on devices with a keyboard).
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { isImage, type Conversation, type MessageItem, type Receipt, type Member, type TimelineEvent } from '@outpost/client';
import { isUuid, type MessageId } from '@outpost/shared-schema';
import { useClient } from '../app/ClientContext.ts';
import { useLive } from '../app/useLive.ts';
import { useOnline } from '../app/useOnline.ts';
import { usePresence } from '../app/usePresence.ts';
import { copyText } from '../app/clipboard.ts';
import { navigate } from '../app/route.ts';
import { nameOf, person, usePeople, type Person } from '../app/people.ts';
import { Link } from '../components/Link.tsx';
import { Avatar } from '../components/Avatar.tsx';
import { Icon } from '../components/Icon.tsx';
import { MessageList } from '../components/MessageList.tsx';
import type { MessageActions } from '../components/MessageRow.tsx';
import { Composer, type ComposerMode } from '../components/Composer.tsx';
import { TypingIndicator } from '../components/TypingIndicator.tsx';
import { MembersPanel } from '../components/MembersPanel.tsx';
import { ReportDialog } from '../components/ReportDialog.tsx';
import { SharedFilesPanel } from '../components/SharedFilesPanel.tsx';
import { ImageViewer, type ViewedImage } from '../components/ImageViewer.tsx';
import { fullTime } from '../app/time.ts';
import { conversationTitle } from '../components/ConversationList.tsx';
import { dismissBootScreen } from '../app/bootScreen.ts';

const NO_MEMBERS: Member[] = [];
const NO_RECEIPTS: Receipt[] = [];
const NO_EVENTS: TimelineEvent[] = [];
const NEW: ComposerMode = { kind: 'new' };
/** How long to wait for a conversation to appear before saying it is not there. */
const PATIENCE_MS = 4000;

interface Props {
  conversationId: string;
  messageId: string | undefined;
}

function Unavailable({ title, text }: { title: string; text: string }) {
  // What the last visit showed here is not what there is: its picture goes at once.
  useEffect(dismissBootScreen, []);
  return (
    <section className="unavailable" role="alert">
      <header className="pane-header">
        <Link to={{ name: 'home' }} className="back" aria-label="Back to conversations">
          ←
        </Link>
      </header>
      <h2>{title}</h2>
      <p>{text}</p>
      <Link to={{ name: 'home' }}>Go to your conversations</Link>
    </section>
  );
}

export function ConversationScreen({ conversationId, messageId }: Props) {
  if (!isUuid(conversationId)) return <Unavailable title="No such conversation" text="This link does not point to a conversation." />;
  return <OpenConversation conversationId={conversationId} messageId={messageId} />;
}

function OpenConversation({ conversationId, messageId }: Props) {
  const client = useClient();
  usePeople();
  const conversation: Conversation = useMemo(() => client.conversation(conversationId), [client, conversationId]);
  const meta = useLive(conversation.meta(), null);
  // Read in place: a change costs O(log n) here, not a copy of a history of 100,000 messages.
  const history = useLive(conversation.window(), conversation.window().get());
  const members = useLive(conversation.members(), NO_MEMBERS);
  const receipts = useLive(conversation.receipts(), NO_RECEIPTS);
  const events = useLive(conversation.events(), NO_EVENTS);
  const entry = useLive(client.conversations(), []).find((item) => item.id === conversationId);
  const presence = usePresence();
  const online = useOnline();
  const level = useLive(conversation.notifyLevel(), 'all');
  const composerField = useRef<HTMLTextAreaElement>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [reporting, setReporting] = useState<MessageItem | null>(null);
  const [mode, setMode] = useState<ComposerMode>(NEW);
  const [details, setDetails] = useState(false);
  const [shared, setShared] = useState(false);
  const [files, setFiles] = useState<readonly File[]>([]);
  const [dragging, setDragging] = useState(false);
  /** The image open full screen, by attachment id. */
  const [viewing, setViewing] = useState<string | null>(null);
  const [atBottom, setAtBottom] = useState(true);
  const [patient, setPatient] = useState(false);

  useEffect(() => {
    const timer = setTimeout(() => setPatient(true), PATIENCE_MS);
    return () => clearTimeout(timer);
  }, []);

  // The first message that was unread on opening: its "New messages" line stays while the
  // conversation is open, even after reading moves on. Taken once the history has loaded.
  const [firstUnreadId, setFirstUnreadId] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    if (firstUnreadId !== undefined || history.length === 0) return;
    const read = conversation.readPosition();
    let first: string | null = null;
    for (let i = history.firstAfter(read); i < history.length && first === null; i++) {
      const m = history.at(i);
      if (m && !m.mine && m.seq !== null) first = m.id;
    }
    setFirstUnreadId(first);
  }, [conversation, history, firstUnreadId]);

  // Writing is what one opens a conversation for; on a phone that would open the keyboard, so there
  // the composer waits for a tap. A deep-linked message takes the focus instead.
  const shown = meta !== null || entry !== undefined;
  useEffect(() => {
    if (shown && !messageId && matchMedia('(hover: hover) and (pointer: fine)').matches) composerField.current?.focus({ preventScroll: true });
  }, [messageId, shown]);

  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => setNotice(null), 4000);
    return () => clearTimeout(timer);
  }, [notice]);

  // Reading: what is at the bottom of the screen counts as read while the app is looked at (visible
  // and focused): a message arriving in a window in the background stays unread, and notifies.
  let lastSeq = 0;
  for (const m of history.newestFirst()) {
    if (m.seq === null) continue;
    lastSeq = m.seq;
    break;
  }
  useEffect(() => {
    const mark = () => {
      if (atBottom && document.visibilityState === 'visible' && document.hasFocus() && lastSeq > conversation.readPosition()) conversation.markRead();
    };
    mark();
    document.addEventListener('visibilitychange', mark);
    window.addEventListener('focus', mark);
    return () => {
      document.removeEventListener('visibilitychange', mark);
      window.removeEventListener('focus', mark);
    };
  }, [conversation, atBottom, lastSeq]);

  const actions = useMemo<MessageActions>(
    () => ({
      reply: (message) => setMode({ kind: 'reply', to: message }),
      edit: (message) => setMode({ kind: 'edit', message }),
      remove: (message) => conversation.delete(message.id),
      react: (message, emoji) => conversation.react(message.id, emoji),
      unreact: (message, emoji) => conversation.unreact(message.id, emoji),
      jumpTo: (id) => navigate({ name: 'conversation', conversationId, messageId: id }),
      openImage: (attachmentId) => setViewing(attachmentId),
      cancelSend: (message) => void conversation.cancelSend(message.id),
      retrySend: (message) => void conversation.retrySend(message.id),
      report: (message) => setReporting(message),
      copyLink: (message) => {
        const url = `${location.origin}/c/${conversationId}/m/${message.id}`;
        void copyText(url).then((copied) => setNotice(copied ? 'Link copied.' : `Copy this link: ${url}`));
      },
    }),
    [conversation, conversationId],
  );
  const focusComposer = useCallback(() => composerField.current?.focus(), []);
  const onAtBottom = useCallback((bottom: boolean) => setAtBottom(bottom), []);
  const onJumpToLatest = useCallback(() => navigate({ name: 'conversation', conversationId }, { replace: true }), [conversationId]);

  // The server refused this conversation's documents: removed, or never a member.
  const refusal = client.failures().find((f) => f.docName.startsWith(`conv:${conversationId}:`));
  const cutOff = refusal && (refusal.kind === 'forbidden' || refusal.kind === 'notFound' || refusal.kind === 'unauthorized');

  // A deep link into history this device has not loaded: bring that message's segment first.
  useEffect(() => {
    if (messageId && isUuid(messageId) && !conversation.has(messageId as MessageId)) {
      conversation.openAt(messageId as MessageId).catch((error: unknown) => console.info('outpost: the linked message could not be brought', error));
    }
  }, [conversation, messageId]);
  const onOlder = useCallback(() => {
    conversation.loadOlder().catch((error: unknown) => console.info('outpost: older messages could not be brought', error));
  }, [conversation]);

  if (!meta && !entry) {
    if (cutOff) return <Unavailable title="You don't have access to this conversation" text="It does not exist, or you are not a member of it." />;
    if (!patient) return <p className="opening muted" role="status">Opening conversation…</p>;
    return (
      <Unavailable
        title="Conversation not found"
        text={online ? 'It does not exist, or you are not a member of it.' : 'It is not on this device, and you are offline. Try again when you are back online.'}
      />
    );
  }

  const me = client.user.id;
  const myRole = members.find((m) => m.userId === me)?.role;
  const group = (meta?.kind ?? entry?.kind) === 'group';
  const title = conversationTitle({ kind: group ? 'group' : 'dm', title: entry?.title || (group ? (meta?.title ?? '') : '') });
  const others = members.filter((m) => m.userId !== me);
  // Counted as the member panel counts (you included); unknown while this device is offline.
  const subtitle = !presence.connected
    ? group
      ? `${members.length} members · you are offline`
      : 'You are offline · their status is unknown'
    : group
      ? `${members.length} members · ${members.filter((m) => presence.online(m.userId)).length} online`
      : others[0] && presence.online(others[0].userId)
        ? 'online'
        : 'offline';
  const mentionable: Person[] = others.map((m) => person(m.userId) ?? { id: m.userId, displayName: nameOf(m.userId) });
  const missingTarget = messageId !== undefined && history.length > 0 && history.get(messageId) === undefined;

  const submit = (text: string, attached: readonly File[]): string | null => {
    try {
      const { maxBytes } = client.fileLimits();
      const tooLarge = attached.filter((file) => file.size > maxBytes);
      if (tooLarge.length > 0) return `${tooLarge.map((f) => f.name).join(', ')}: a file may be at most ${Math.round(maxBytes / 1024 / 1024)} MB`;
      if (mode.kind === 'edit') conversation.edit(mode.message.id, text);
      else conversation.send(text, { ...(mode.kind === 'reply' ? { replyTo: mode.to.id } : {}), ...(attached.length > 0 ? { attachments: attached } : {}) });
      setMode(NEW);
      return null;
    } catch (caught) {
      return (caught as Error).message;
    }
  };
  const editLast = () => {
    for (const m of history.newestFirst()) {
      if (!m.mine || m.deleted) continue;
      setMode({ kind: 'edit', message: m });
      return;
    }
  };

  // Every image of the conversation on this device, in order, while the viewer is open: it steps through them.
  const images: ViewedImage[] = (viewing === null ? [] : history.slice(0)).flatMap((m) =>
    m.deleted
      ? []
      : (m.attachments ?? []).filter(isImage).map((attachment) => ({
          conversationId,
          attachment,
          caption: `${m.mine ? 'You' : nameOf(m.author)}, ${fullTime(m.createdAt)}`,
        })),
  );
  const viewedIndex = viewing === null ? -1 : images.findIndex((image) => image.attachment.id === viewing);
  const canWrite = !cutOff;
  const hasFiles = (event: DragEvent) => canWrite && event.dataTransfer.types.includes('Files');

  return (
    <section
      className={`conversation${details || shared ? ' with-details' : ''}${dragging ? ' dragging' : ''}`}
      aria-label={title}
      onDragEnter={(event) => {
        if (hasFiles(event)) setDragging(true);
      }}
      onDragOver={(event) => {
        if (!hasFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
      }}
      onDragLeave={(event) => {
        if (event.currentTarget === event.target || !event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
      }}
      onDrop={(event) => {
        setDragging(false);
        if (!hasFiles(event)) return;
        event.preventDefault();
        setFiles((current) => [...current, ...event.dataTransfer.files]);
        composerField.current?.focus();
      }}
    >
      {dragging && (
        <div className="drop-hint" aria-hidden="true">
          Drop files to send them here
        </div>
      )}
      <div className="conversation-main">
        <header className="pane-header conversation-header">
          <Link to={{ name: 'home' }} className="back" aria-label="Back to conversations">
            ←
          </Link>
          <Avatar name={title} group={group} online={group || !others[0] ? undefined : presence.online(others[0].userId)} />
          <div className="conversation-heading">
            <h2>{title}</h2>
            <span className="muted">
              {level === 'none' && (
                <span className="muted-mark">
                  <Icon name="bellOff" /> Muted ·{' '}
                </span>
              )}
              {subtitle}
            </span>
          </div>
          <button
            type="button"
            className="ghost"
            aria-expanded={shared}
            onClick={() => {
              setShared(!shared);
              setDetails(false);
            }}
          >
            Files
          </button>
          {meta && (
            <button
              type="button"
              className="ghost"
              aria-expanded={details}
              onClick={() => {
                setDetails(!details);
                setShared(false);
              }}
            >
              {group ? 'Members' : 'Details'}
            </button>
          )}
        </header>
        {cutOff && (
          <p className="notice removed" role="alert">
            You are no longer a member of this conversation. You can read what this device kept, but not write.
          </p>
        )}
        {missingTarget && patient && (
          <p className="notice" role="status">
            The linked message is not in this conversation on this device (it may have been deleted, or not synced yet).
          </p>
        )}
        {notice && (
          <p className="toast" role="status">
            {notice}
          </p>
        )}
        <MessageList
          conversationId={conversationId}
          history={history}
          events={events}
          targetId={messageId}
          firstUnreadId={firstUnreadId ?? undefined}
          me={me}
          myUsername={client.user.username}
          canDeleteOthers={group && (myRole === 'owner' || myRole === 'admin')}
          receipts={receipts}
          online={online}
          actions={actions}
          onAtBottom={onAtBottom}
          onJumpToLatest={onJumpToLatest}
          onOlder={onOlder}
          onEscape={focusComposer}
        />
        <TypingIndicator conversation={conversation} />
        <Composer
          key={conversationId}
          userId={me}
          conversationId={conversationId}
          mode={mode}
          onCancelMode={() => setMode(NEW)}
          onSubmit={submit}
          files={files}
          onFiles={setFiles}
          onTyping={(typing) => conversation.setTyping(typing)}
          onEditLast={editLast}
          mentionable={mentionable}
          disabled={cutOff ? 'You can no longer write here' : meta?.posting === 'admins' && myRole === 'member' ? 'Only the owner and admins can post in this group' : undefined}
          fieldRef={composerField}
        />
      </div>
      {details && meta && <MembersPanel conversation={conversation} meta={meta} title={title} onClose={() => setDetails(false)} />}
      {reporting && (
        <ReportDialog
          conversationId={conversationId}
          message={reporting}
          onClose={() => setReporting(null)}
          onReported={() => (setReporting(null), setNotice('Reported to the server administrators.'))}
        />
      )}
      {shared && <SharedFilesPanel conversation={conversation} onOpenImage={setViewing} onClose={() => setShared(false)} />}
      {viewedIndex >= 0 && <ImageViewer images={images} index={viewedIndex} onIndex={(i) => setViewing(images[i]?.attachment.id ?? null)} onClose={() => setViewing(null)} />}
    </section>
  );
}
