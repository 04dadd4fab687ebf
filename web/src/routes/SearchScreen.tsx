// Message search: the local replica (offline too) and, when connected, the server, which also
// knows history this device has not synced yet. Both lists are merged, each message once; the
// matched words are highlighted; choosing one opens the conversation at that message. Offline,
// the screen says that results may be incomplete until the backfill is done.
import { useEffect, useId, useState } from 'react';
import { mergeSearchHits, type SearchHit, type ServerSearchPage } from '@outpost/client';
import { searchWords, type SearchSnippetPart } from '@outpost/shared-schema';
import { useClient } from '../app/ClientContext.ts';
import { useLive } from '../app/useLive.ts';
import { useOnline } from '../app/useOnline.ts';
import { navigate } from '../app/route.ts';
import { nameOf, usePeople } from '../app/people.ts';
import { plainText } from '../app/markup.ts';
import { listTime } from '../app/time.ts';
import { Link } from '../components/Link.tsx';
import { Highlighted } from '../components/Highlighted.tsx';
import { conversationTitle } from '../components/ConversationList.tsx';

const PAGE = 50;
const SERVER_PAGE = 20;
/** Typing pauses this long before the server is asked. */
const SERVER_DELAY_MS = 250;

type ServerState =
  | { state: 'idle' }
  | { state: 'searching'; text: string; pages: ServerSearchPage[] }
  | { state: 'done'; text: string; pages: ServerSearchPage[] }
  | { state: 'failed'; text: string; offline: boolean };

/** The server's pages for `text`, asked once typing pauses, more when `wanted` grows. */
function useServerSearch(text: string, wanted: number, connected: boolean): ServerState {
  const client = useClient();
  const [result, setResult] = useState<ServerState>({ state: 'idle' });
  const hasWords = searchWords(text).length > 0;
  useEffect(() => {
    if (!connected || !hasWords) {
      setResult({ state: 'idle' });
      return;
    }
    let cancelled = false;
    const timer = setTimeout(async () => {
      const pages: ServerSearchPage[] = [];
      setResult({ state: 'searching', text, pages });
      try {
        let offset: number | null = 0;
        while (offset !== null && pages.length * SERVER_PAGE < wanted) {
          const page: ServerSearchPage = await client.searchServer(text, { offset, limit: SERVER_PAGE });
          if (cancelled) return;
          pages.push(page);
          offset = page.nextOffset;
        }
        setResult({ state: 'done', text, pages: [...pages] });
      } catch (error) {
        if (cancelled) return;
        const details = (error as { details?: { offline?: boolean } }).details;
        setResult({ state: 'failed', text, offline: details?.offline === true });
      }
    }, SERVER_DELAY_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [client, text, wanted, connected, hasWords]);
  return result;
}

/**
 * The device's hits for `text`, at most `limit`, searched again whenever `replica` (values that
 * change with the replica) changes, so results follow it as the list does, and once the saved
 * index has loaded. The words are matched
 * in memory; the texts of messages not loaded come from the replica, hence the effect. Until the
 * first answer for a new text, the previous hits stay on screen.
 */
function useLocalSearch(text: string, limit: number, replica: readonly unknown[]): SearchHit[] {
  const client = useClient();
  const [hits, setHits] = useState<SearchHit[]>([]);
  // The saved index loads after the first screen: search again once it is in.
  const [searchable, setSearchable] = useState(false);
  useEffect(() => {
    let cancelled = false;
    void client.searchable().then(() => {
      if (!cancelled) setSearchable(true);
    });
    return () => {
      cancelled = true;
    };
  }, [client]);
  useEffect(() => {
    let cancelled = false;
    client.search(text, { limit }).then(
      (found) => {
        if (!cancelled) setHits(found);
      },
      (error: unknown) => console.error('search on this device failed', error),
    );
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `replica` is spread: each of its values is a dependency
  }, [client, text, limit, searchable, ...replica]);
  return hits;
}

function Snippet({ parts }: { parts: readonly SearchSnippetPart[] }) {
  return <>{parts.map((part, i) => (part.hit ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>))}</>;
}

export function SearchScreen({ query }: { query: string }) {
  const client = useClient();
  usePeople();
  const [text, setText] = useState(query);
  const [limit, setLimit] = useState(PAGE);
  const list = useLive(client.conversations(), []);
  const progress = useLive(client.syncProgress(), { synced: 0, total: 0 });
  // Asked over HTTP whenever the browser has a network, even while the sync socket is down: the
  // server knows what this device has not synced yet.
  const connected = useOnline();
  const server = useServerSearch(text, limit - PAGE + SERVER_PAGE, connected);
  const inputId = useId();
  // One more than shown tells whether there are more.
  const found = useLocalSearch(text, limit + 1, [list, progress]);
  const localMore = found.length > limit;
  const local = localMore ? found.slice(0, limit) : found;
  const serverPages = server.state === 'done' || server.state === 'searching' ? (server.text === text ? server.pages : []) : [];
  const serverHits = serverPages.flatMap((page) => page.hits);
  const serverMore = serverPages.at(-1)?.nextOffset != null;
  const hits = mergeSearchHits(local, serverHits);
  const onlyOnServer = hits.filter((hit) => hit.foundIn === 'server').length;
  const more = localMore || serverMore;
  const titles = new Map(list.map((item) => [item.id, conversationTitle(item)]));
  const backfilled = progress.total > 0 && progress.synced >= progress.total;
  const searchingServer = connected && searchWords(text).length > 0 && (server.state === 'searching' || server.state === 'idle' || (server.state === 'done' && server.text !== text));
  const serverUnreachable = !connected || (server.state === 'failed' && server.offline);

  let scope: string;
  if (serverUnreachable) {
    scope = backfilled
      ? 'Offline: searching the messages on this device.'
      : `Offline: searching this device only. Results may be incomplete until the backfill is done (${progress.synced} of ${progress.total} conversations synced).`;
  } else if (server.state === 'failed') {
    scope = 'The server could not search just now; showing the messages on this device.';
  } else if (searchingServer) {
    scope = 'Searching the server too…';
  } else {
    scope = onlyOnServer > 0 ? `Including ${onlyOnServer} found on the server that this device has not synced yet.` : 'Searched this device and the server.';
  }

  return (
    <section className="search-screen" aria-labelledby={`${inputId}-title`}>
      <header className="pane-header">
        <Link to={{ name: 'home' }} className="back" aria-label="Back to conversations">
          ←
        </Link>
        <h2 id={`${inputId}-title`}>Search messages</h2>
      </header>
      <div className="search-box">
        <label htmlFor={inputId} className="visually-hidden">
          Search all messages
        </label>
        <input
          id={inputId}
          type="search"
          autoFocus
          placeholder="Search all messages (works offline)"
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setLimit(PAGE);
            navigate({ name: 'search', query: e.target.value }, { replace: true });
          }}
        />
      </div>
      {text.trim() && (
        <>
          <p className="muted search-count" role="status">
            {hits.length === 0 ? (searchingServer ? 'No messages match on this device yet.' : 'No messages match.') : hits.length === 1 ? '1 message' : `${more ? 'The first ' : ''}${hits.length} messages`}
          </p>
          <p className={`muted search-scope${serverUnreachable ? ' search-scope-offline' : ''}`} data-testid="search-scope">
            {scope}
          </p>
        </>
      )}
      <ol className="search-results" aria-label="Search results">
        {hits.map((hit) => (
          <li key={hit.messageId} data-found-in={hit.foundIn}>
            <Link to={{ name: 'conversation', conversationId: hit.conversationId, messageId: hit.messageId }} className="search-hit">
              <span className="search-hit-top">
                <strong>{titles.get(hit.conversationId) ?? (hit.foundIn === 'server' ? 'A conversation not synced here yet' : 'Conversation')}</strong>
                <time>{listTime(hit.createdAt)}</time>
              </span>
              <span className="search-hit-body">
                <span className="muted">{hit.author === client.user.id ? 'You' : nameOf(hit.author)}: </span>
                {hit.local ? <Highlighted text={plainText(hit.local.body)} terms={hit.local.terms} /> : <Snippet parts={hit.snippet} />}
              </span>
              {hit.local && hit.local.files.length > 0 && (
                <span className="search-hit-files">
                  📎 <Highlighted text={hit.local.files.join(', ')} terms={hit.local.terms} />
                </span>
              )}
              {hit.foundIn === 'server' && <span className="search-hit-where muted">on the server</span>}
            </Link>
          </li>
        ))}
        {more && (
          <li className="search-more">
            <button type="button" onClick={() => setLimit(limit + PAGE)}>
              Show more
            </button>
          </li>
        )}
      </ol>
    </section>
  );
}
