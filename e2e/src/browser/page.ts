// The browser test page: the SDK on a real IndexedDB replica, rendering the conversation list,
// the open conversation and the outbox as plain DOM, and exposing a few calls to the test.
// Bundled by esbuild in browser.e2e.ts; resumes its stored session on every (re)load.
import { IndexedDbReplica, OutpostClient, type Conversation } from '@outpost/client';
import type { ConversationId, Session } from '@outpost/shared-schema';

interface Saved {
  url: string;
  session: Session;
}

let client: OutpostClient | undefined;
let open: Conversation | undefined;
let replica: IndexedDbReplica | undefined;

function el(tag: string, text: string, className?: string): HTMLElement {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  return node;
}

function render(): void {
  if (!client) return;
  const root = document.getElementById('app') ?? document.body.appendChild(Object.assign(document.createElement('main'), { id: 'app' }));
  root.replaceChildren();
  const progress = client.syncProgress().get();
  root.append(el('p', `${client.user.username} · ${client.status().get()} · synced ${progress.synced} of ${progress.total} conversations · ${client.outbox().get().length} pending`, 'status'));
  const list = el('ul', '', 'conversations');
  for (const item of client.conversations().get()) list.append(el('li', `${item.title || 'direct'} — ${item.lastMessage?.preview ?? ''} (${item.unread} unread)`));
  root.append(list);
  if (open) {
    const messages = el('ol', '', 'messages');
    for (const m of open.messages().get()) messages.append(el('li', `${m.seq ?? '…'} ${m.deleted ? '(deleted)' : m.body}`, m.status));
    root.append(messages);
  }
}

async function start(url: string, session: Session, conversationId?: string): Promise<void> {
  localStorage.setItem('outpost', JSON.stringify({ url, session } satisfies Saved));
  replica = await IndexedDbReplica.open({ userId: session.user.id });
  client = await OutpostClient.resume({ url, persistence: replica }, session);
  const target = conversationId ?? (await client.lastConversation());
  if (target) open = client.conversation(target as ConversationId);
  for (const live of [client.conversations(), client.outbox(), client.status(), client.syncProgress(), ...(open ? [open.messages()] : [])]) {
    (live as { subscribe(fn: () => void): () => void }).subscribe(render);
  }
}

function current(): { client: OutpostClient; open: Conversation } {
  if (!client || !open) throw new Error('the page has not started');
  return { client, open };
}

const api = {
  start,
  send: (body: string) => current().open.send(body),
  stored: () => current().client.stored(),
  lines: () => current().open.messages().get().map((m) => ({ id: m.id, seq: m.seq, body: m.body, status: m.status })),
  outbox: () => current().client.outbox().get().map((op) => op.kind),
  status: () => current().client.status().get(),
  search: async (query: string) => (await current().client.search(query)).map((hit) => hit.body),
  storage: () => replica?.storage().get(),
};

declare global {
  interface Window {
    outpost: typeof api;
    outpostReady: Promise<void>;
  }
}

window.outpost = api;
const saved = localStorage.getItem('outpost');
window.outpostReady = saved ? start((JSON.parse(saved) as Saved).url, (JSON.parse(saved) as Saved).session) : Promise.resolve();
