// Message text is plain text with a small markup. Blocks, one per line or run of lines:
// ``` fenced code ```, "> " quotes, "- "/"* " bulleted and "1. " numbered lists, and paragraphs.
// Inside them: **bold**, *italic* or _italic_, ~~strikethrough~~, `code`, [text](url), bare
// http(s)/mailto links and @mentions. It is parsed into a tree that the UI turns into React
// elements, so user text never reaches the DOM as HTML. The work is bounded on hostile input:
// blocks are one pass over the lines (quotes do not nest), and every inline pattern is either
// free of backtracking or bounded in span.

export type MarkupNode =
  | { type: 'text'; text: string }
  | { type: 'bold'; children: MarkupNode[] }
  | { type: 'italic'; children: MarkupNode[] }
  | { type: 'strike'; children: MarkupNode[] }
  | { type: 'code'; text: string }
  | { type: 'link'; href: string; children: MarkupNode[] }
  | { type: 'mention'; username: string };

export type MarkupBlock =
  | { type: 'paragraph'; children: MarkupNode[] }
  | { type: 'codeBlock'; text: string }
  | { type: 'quote'; children: MarkupBlock[] }
  | { type: 'list'; ordered: boolean; start: number; items: MarkupNode[][] };

const TOKEN = new RegExp(
  [
    /(`[^`\n]+`)/.source,
    // Bounded span: an unbounded lazy scan from every "**" is quadratic on a hostile long line.
    /(\*\*[^*\s](?:[^\n]{0,1000}?[^*\s])?\*\*)/.source,
    /(~~[^~\s](?:[^\n]{0,1000}?[^~\s])?~~)/.source,
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

/** The inline markup of one run of text (no blocks). */
export function parseInline(text: string): MarkupNode[] {
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
    const [whole, code, bold, strike, link, bare, mention, star, underscore] = match;
    at = start + whole.length;
    if (code) nodes.push({ type: 'code', text: code.slice(1, -1) });
    else if (bold) nodes.push({ type: 'bold', children: parseInline(bold.slice(2, -2)) });
    else if (strike) nodes.push({ type: 'strike', children: parseInline(strike.slice(2, -2)) });
    else if (star) nodes.push({ type: 'italic', children: parseInline(star.slice(1, -1)) });
    else if (underscore) nodes.push({ type: 'italic', children: parseInline(underscore.slice(1, -1)) });
    else if (mention) nodes.push({ type: 'mention', username: mention.slice(1) });
    else if (link) {
      const close = link.indexOf('](');
      const href = safeHref(link.slice(close + 2, -1));
      if (href) nodes.push({ type: 'link', href, children: parseInline(link.slice(1, close)) });
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

const FENCE = /^ {0,3}```(.*)$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const BULLET = /^ {0,3}[-*+] +(.*)$/;
const NUMBERED = /^ {0,3}(\d{1,9})[.)] +(.*)$/;

/** The blocks of a message body: code fences, quotes, lists and paragraphs (lines kept as typed). */
export function parseBlocks(text: string, quoted = false): MarkupBlock[] {
  const blocks: MarkupBlock[] = [];
  const lines = text.split('\n');
  let paragraph: string[] = [];
  const endParagraph = () => {
    // Blank lines around blocks separate them; inside a paragraph they are kept.
    while (paragraph.length > 0 && paragraph[paragraph.length - 1]!.trim() === '') paragraph.pop();
    while (paragraph.length > 0 && paragraph[0]!.trim() === '') paragraph.shift();
    if (paragraph.length > 0) blocks.push({ type: 'paragraph', children: parseInline(paragraph.join('\n')) });
    paragraph = [];
  };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence) {
      endParagraph();
      i += 1;
      const rest = fence[1]!;
      const oneLine = /^(.*\S.*?)```\s*$/.exec(rest);
      if (oneLine) {
        blocks.push({ type: 'codeBlock', text: oneLine[1]! });
        continue;
      }
      // After the opening fence: a language name (ignored), or code already (as Slack allows).
      const code = /^\s*[\w+#.-]*\s*$/.test(rest) ? [] : [rest];
      for (; i < lines.length; i += 1) {
        const closing = /^(.*?)```\s*$/.exec(lines[i]!);
        if (closing) {
          if (closing[1]!.trim()) code.push(closing[1]!);
          i += 1;
          break;
        }
        code.push(lines[i]!);
      }
      // An unclosed block runs to the end, as it was typed.
      blocks.push({ type: 'codeBlock', text: code.join('\n') });
      continue;
    }
    if (!quoted && QUOTE.test(line)) {
      endParagraph();
      const inner: string[] = [];
      for (let m = QUOTE.exec(lines[i] ?? ''); i < lines.length && m; m = QUOTE.exec(lines[++i] ?? '')) inner.push(m[1]!);
      blocks.push({ type: 'quote', children: parseBlocks(inner.join('\n'), true) });
      continue;
    }
    const bullet = BULLET.exec(line);
    const numbered = bullet ? null : NUMBERED.exec(line);
    if (bullet || numbered) {
      endParagraph();
      const pattern = bullet ? BULLET : NUMBERED;
      const items: MarkupNode[][] = [];
      for (let m = pattern.exec(line); i < lines.length && m; m = pattern.exec(lines[++i] ?? '')) items.push(parseInline(m[bullet ? 1 : 2]!));
      blocks.push({ type: 'list', ordered: !bullet, start: numbered ? Number(numbered[1]) : 1, items });
      continue;
    }
    paragraph.push(line);
    i += 1;
  }
  endParagraph();
  return blocks;
}

/** The plain words of inline nodes. */
function flat(nodes: readonly MarkupNode[]): string {
  return nodes
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
}

/** The plain words of a body (markup removed, blocks on one line each), for previews and quotes. */
export function plainText(text: string): string {
  const blocks = (list: readonly MarkupBlock[]): string[] =>
    list.flatMap((block) => {
      switch (block.type) {
        case 'paragraph':
          return [flat(block.children)];
        case 'codeBlock':
          return [block.text];
        case 'quote':
          return blocks(block.children);
        case 'list':
          return block.items.map(flat);
      }
    });
  return blocks(parseBlocks(text)).join('\n');
}

/**
 * Starts every line the selection touches with `prefix` ("> ", "- "), or with 1., 2., … when
 * `prefix` is "1. "; the toolbar's quote and list buttons.
 */
export function prefixLines(text: string, start: number, end: number, prefix: string) {
  const from = text.lastIndexOf('\n', start - 1) + 1;
  const lineEnd = text.indexOf('\n', end);
  const to = lineEnd < 0 ? text.length : lineEnd;
  const lines = text.slice(from, to).split('\n');
  const changed = lines.map((line, n) => (prefix === '1. ' ? `${n + 1}. ` : prefix) + line).join('\n');
  const next = text.slice(0, from) + changed + text.slice(to);
  return { text: next, start: from + changed.length, end: from + changed.length };
}

/** Wraps the selection of a text field in `before`/`after` (the toolbar and its shortcuts). */
export function wrapSelection(text: string, start: number, end: number, before: string, after = before, placeholder = 'text') {
  const selected = text.slice(start, end) || placeholder;
  const next = text.slice(0, start) + before + selected + after + text.slice(end);
  return { text: next, start: start + before.length, end: start + before.length + selected.length };
}
