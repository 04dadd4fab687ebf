// Turns a user's query into the query language of each backend, from its words only, and a
// backend's marked-up snippet back into plain pieces. Words are runs of letters and digits
// (`searchWords`), so no quote, operator or parenthesis of FTS5 or tsquery can come through.
import { searchWords } from '@outpost/shared-schema';
import type { SnippetPart } from './Search.ts';

/** Opens a highlighted word in a backend's snippet (a control character no message needs). */
export const HIT_START = '\u0001';
/** Closes a highlighted word. */
export const HIT_END = '\u0002';

/**
 * An FTS5 MATCH expression: every word as a quoted string (so `OR`, `NEAR` or `AND` are words),
 * all required, each a whole word: a prefix would make FTS5 merge the postings of every word that
 * starts with it, the one part of a search whose cost grows with the history. (The device's own
 * search matches prefixes as the user types.) Null when there is no word.
 */
export function fts5Match(text: string): string | null {
  const words = searchWords(text);
  if (words.length === 0) return null;
  return words.map((word) => `"${word}"`).join(' AND ');
}

/** The token that stands for a conversation in SQLite's full-text index (its `scope` column, migration 11). */
export function scopeToken(conversationId: string): string {
  return `c${conversationId.replaceAll('-', '')}`;
}

/**
 * An FTS5 MATCH expression for `match` (from `fts5Match`) in the text of a message, and, when
 * `conversationIds` is given, in one of those conversations. Tokens are quoted, so an id cut into
 * several tokens by the tokenizer is still matched as a phrase.
 */
export function fts5Scoped(match: string, conversationIds?: readonly string[]): string {
  const text = `{body files} : (${match})`;
  if (conversationIds === undefined) return text;
  return `${text} AND scope : (${conversationIds.map((id) => `"${scopeToken(id).replaceAll('"', '""')}"`).join(' OR ')})`;
}

/** A to_tsquery('simple', …) expression with the same meaning as `fts5Match`. Null when there is no word. */
export function tsQuery(text: string): string | null {
  const words = searchWords(text);
  if (words.length === 0) return null;
  return words.map((word) => `'${word}'`).join(' & ');
}

/** Splits a snippet marked with HIT_START/HIT_END into pieces; stray markers are dropped. */
export function snippetParts(marked: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let hit = false;
  let text = '';
  const push = () => {
    if (text === '') return;
    const last = parts.at(-1);
    if (last && last.hit === hit) last.text += text;
    else parts.push({ text, hit });
    text = '';
  };
  for (const char of marked) {
    if (char === HIT_START || char === HIT_END) {
      push();
      hit = char === HIT_START;
    } else {
      text += char;
    }
  }
  push();
  return parts;
}

const TOKEN = /[\p{L}\p{N}\p{M}]+/gu;

/** Lowercased, without accents: how both indexes compare words. */
function folded(word: string): string {
  return word.toLowerCase().normalize('NFD').replace(/\p{M}+/gu, '');
}

/**
 * A snippet of `text` around the first word that matches the query (as the index matched it:
 * whole words, without case or accents), about `words` words long, matches marked. For backends
 * whose own highlighter splits words differently from the index.
 */
export function markedSnippet(text: string, query: string, words = 16): SnippetPart[] {
  const wanted = new Set(searchWords(query).map(folded));
  const isHit = (word: string) => wanted.has(folded(word));
  const tokens = [...text.matchAll(TOKEN)].map((m) => ({ start: m.index, end: m.index + m[0].length, hit: isHit(m[0]) }));
  if (tokens.length === 0) return text === '' ? [] : [{ text: text.slice(0, 200), hit: false }];
  const first = Math.max(0, tokens.findIndex((t) => t.hit));
  const from = Math.max(0, Math.min(first - Math.floor(words / 4), tokens.length - words));
  const to = Math.min(tokens.length, from + words);
  const startAt = from === 0 ? 0 : tokens[from]!.start;
  const endAt = to === tokens.length ? text.length : tokens[to - 1]!.end;
  let marked = from === 0 ? '' : '…';
  let at = startAt;
  for (const token of tokens.slice(from, to)) {
    if (!token.hit) continue;
    marked += text.slice(at, token.start) + HIT_START + text.slice(token.start, token.end) + HIT_END;
    at = token.end;
  }
  marked += text.slice(at, endAt) + (to === tokens.length ? '' : '…');
  return snippetParts(marked.replace(/\s+/g, ' '));
}
