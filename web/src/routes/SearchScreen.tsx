// Message search over the local replica (offline too): results with the matched words
// highlighted, 50 at a time ("Show more"); choosing one opens the conversation at that message.
import { useId, useState } from 'react';
import { useClient } from '../app/ClientContext.ts';
import { useLive } from '../app/useLive.ts';
import { navigate } from '../app/route.ts';
import { nameOf, usePeople } from '../app/people.ts';
import { plainText } from '../app/markup.ts';
import { listTime } from '../app/time.ts';
import { Link } from '../components/Link.tsx';
import { Highlighted } from '../components/Highlighted.tsx';
import { conversationTitle } from '../components/ConversationList.tsx';

const PAGE = 50;

export function SearchScreen({ query }: { query: string }) {
  const client = useClient();
  usePeople();
  const [text, setText] = useState(query);
  const [limit, setLimit] = useState(PAGE);
  const list = useLive(client.conversations(), []);
  const inputId = useId();
  // Searched on every render (the index is in memory), so results follow the replica as the list does.
  // One more than shown tells whether there are more.
  const found = client.search(text, { limit: limit + 1 });
  const more = found.length > limit;
  const hits = more ? found.slice(0, limit) : found;
  const titles = new Map(list.map((item) => [item.id, conversationTitle(item)]));

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
        <p className="muted search-count" role="status">
          {hits.length === 0 ? 'No messages match.' : hits.length === 1 ? '1 message' : `${more ? 'The first ' : ''}${hits.length} messages`}
        </p>
      )}
      <ol className="search-results" aria-label="Search results">
        {hits.map((hit) => (
          <li key={hit.messageId}>
            <Link to={{ name: 'conversation', conversationId: hit.conversationId, messageId: hit.messageId }} className="search-hit">
              <span className="search-hit-top">
                <strong>{titles.get(hit.conversationId) ?? 'Conversation'}</strong>
                <time>{listTime(hit.createdAt)}</time>
              </span>
              <span className="search-hit-body">
                <span className="muted">{hit.author === client.user.id ? 'You' : nameOf(hit.author)}: </span>
                <Highlighted text={plainText(hit.body)} terms={hit.terms} />
              </span>
              {hit.files.length > 0 && (
                <span className="search-hit-files">
                  📎 <Highlighted text={hit.files.join(', ')} terms={hit.terms} />
                </span>
              )}
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
