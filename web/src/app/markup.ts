// Message text is plain text with a small markup: **bold**, *italic* or _italic_, `code`,
// [text](url), bare http(s)/mailto links and @mentions. It is parsed into a tree that the UI turns
// into React elements, so user text never reaches the DOM as HTML.

export type MarkupNode =
  | { type: 'text'; text: string }
  | { type: 'bold'; children: MarkupNode[] }
  | { type: 'italic'; children: MarkupNode[] }
  | { type: 'code'; text: string }
  | { type: 'link'; href: string; children: MarkupNode[] }
  | { type: 'mention'; username: string };

const TOKEN = new RegExp(
  [
    /(`[^`\n]+`)/.source,
    // Bounded span: an unbounded lazy scan from every "**" is quadratic on a hostile long line.
    /(\*\*[^*\s](?:[^\n]{0,1000}?[^*\s])?\*\*)/.source,
    /(\[[^\]\n]+\]\([^)\s]+\))/.source,
    /((?:https?:\/\/|mailto:)[^\s<>]+)/.source,
    /((?<![\p{L}\p{N}_.@])@[a-z0-9_.-]{3,32})/u.source,
    /((?<![\p{L}\p{N}*])\*[^*\s](?:[^*\n]*[^*\s])?\*(?![\p{L}\p{N}*]))/u.source,
    /((?<![\p{L}\p{N}_])_[^_\s](?:[^_\n]*[^_\s])?_(?![\p{L}\p{N}_]))/u.source,
  ].join('|'),
  'gu',
);

/** The href for `url` if it is safe to link (http, https or mailto), else null. */
export function safeHref(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' || parsed.protocol === 'mailto:' ? parsed.href : null;
  } catch (error) {
    if (error instanceof TypeError) return null;
    throw error;
  }
}

export function parseMarkup(text: string): MarkupNode[] {
  const nodes: MarkupNode[] = [];
  const pushText = (value: string) => {
    if (!value) return;
    const last = nodes[nodes.length - 1];
    if (last?.type === 'text') last.text += value;
    else nodes.push({ type: 'text', text: value });
  };
  let at = 0;
  for (const match of text.matchAll(TOKEN)) {
    const start = match.index;
    pushText(text.slice(at, start));
    const [whole, code, bold, link, bare, mention, star, underscore] = match;
    at = start + whole.length;
    if (code) nodes.push({ type: 'code', text: code.slice(1, -1) });
    else if (bold) nodes.push({ type: 'bold', children: parseMarkup(bold.slice(2, -2)) });
    else if (star) nodes.push({ type: 'italic', children: parseMarkup(star.slice(1, -1)) });
    else if (underscore) nodes.push({ type: 'italic', children: parseMarkup(underscore.slice(1, -1)) });
    else if (mention) nodes.push({ type: 'mention', username: mention.slice(1) });
    else if (link) {
      const close = link.indexOf('](');
      const href = safeHref(link.slice(close + 2, -1));
      if (href) nodes.push({ type: 'link', href, children: parseMarkup(link.slice(1, close)) });
      else pushText(link);
    } else if (bare) {
      // Sentence punctuation after a link belongs to the sentence.
      const trimmed = bare.replace(/[.,;:!?)\]'"]+$/, '');
      const href = safeHref(trimmed);
      if (href) nodes.push({ type: 'link', href, children: [{ type: 'text', text: trimmed }] });
      else pushText(trimmed);
      pushText(bare.slice(trimmed.length));
    }
  }
  pushText(text.slice(at));
  return nodes;
}

/** The plain words of a body (markup removed), for previews and quotes. */
export function plainText(text: string): string {
  const flat = (nodes: MarkupNode[]): string =>
    nodes
      .map((node) => {
        switch (node.type) {
          case 'text':
          case 'code':
            return node.text;
          case 'mention':
            return `@${node.username}`;
          default:
            return flat(node.children);
        }
      })
      .join('');
  return flat(parseMarkup(text));
}

/** Wraps the selection of a text field in `before`/`after` (the toolbar and its shortcuts). */
export function wrapSelection(text: string, start: number, end: number, before: string, after = before, placeholder = 'text') {
  const selected = text.slice(start, end) || placeholder;
  const next = text.slice(0, start) + before + selected + after + text.slice(end);
  return { text: next, start: start + before.length, end: start + before.length + selected.length };
}
