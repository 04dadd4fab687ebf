// Every emoji, searchable by name and keyword, beside the quick reactions. A grid you move through
// with the arrow keys (one tab stop), Enter picks, Escape closes; the search box comes first.
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { EMOJI_GROUPS, loadEmoji, searchEmoji, type Emoji } from '../app/emoji.ts';

const COLUMNS = 8;

interface Props {
  onPick(emoji: string): void;
  onClose(): void;
}

export function EmojiPicker({ onPick, onClose }: Props) {
  const [all, setAll] = useState<Emoji[] | null>(null);
  const [failed, setFailed] = useState(false);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const grid = useRef<HTMLDivElement>(null);
  const id = useId();

  useEffect(() => {
    let current = true;
    loadEmoji().then(
      (emoji) => current && setAll(emoji),
      (error: unknown) => {
        console.error('outpost: cannot load the emoji list', error);
        if (current) setFailed(true);
      },
    );
    return () => {
      current = false;
    };
  }, []);

  const found = useMemo(() => (all ? searchEmoji(all, query) : []), [all, query]);
  const focusCell = (index: number) => {
    const next = Math.max(0, Math.min(found.length - 1, index));
    setActive(next);
    grid.current?.querySelector<HTMLButtonElement>(`[data-index="${next}"]`)?.focus();
  };

  const onGridKey = (event: KeyboardEvent) => {
    const moves: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS };
    if (event.key in moves) {
      event.preventDefault();
      if (event.key === 'ArrowUp' && active < COLUMNS) grid.current?.parentElement?.querySelector('input')?.focus();
      else focusCell(active + moves[event.key]!);
    } else if (event.key === 'Home') {
      event.preventDefault();
      focusCell(0);
    } else if (event.key === 'End') {
      event.preventDefault();
      focusCell(found.length - 1);
    }
  };

  // Grouped under their category while browsing; one list of matches while searching.
  let lastGroup = -1;
  return (
    <div
      className="emoji-picker"
      role="dialog"
      aria-label="All emoji"
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          onClose();
        }
      }}
    >
      <label htmlFor={`${id}-search`} className="visually-hidden">
        Search emoji
      </label>
      <input
        id={`${id}-search`}
        type="search"
        autoFocus
        placeholder="Search emoji (e.g. thumbs, party)"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown' && found.length > 0) {
            event.preventDefault();
            focusCell(0);
          } else if (event.key === 'Enter' && found[0]) {
            event.preventDefault();
            onPick(found[0].emoji);
          }
        }}
      />
      {!all && !failed && <p className="muted">Loading emoji…</p>}
      {failed && <p className="error">The emoji list could not be loaded.</p>}
      {all && found.length === 0 && <p className="muted">No emoji matches “{query}”.</p>}
      <div className="emoji-grid" ref={grid} onKeyDown={onGridKey} role="group" aria-label={query ? 'Matching emoji' : 'Emoji by category'}>
        {found.map((e, i) => {
          const heading = !query && e.group !== lastGroup ? EMOJI_GROUPS[e.group] : undefined;
          lastGroup = e.group;
          return (
            <span key={e.emoji} className="emoji-cell-wrap">
              {heading && <span className="emoji-group">{heading}</span>}
              <button
                type="button"
                className="emoji-cell"
                data-index={i}
                tabIndex={i === active ? 0 : -1}
                aria-label={e.label}
                title={e.label}
                onClick={() => onPick(e.emoji)}
              >
                {e.emoji}
              </button>
            </span>
          );
        })}
      </div>
    </div>
  );
}
