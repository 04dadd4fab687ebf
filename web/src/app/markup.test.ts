import { describe, expect, it } from 'vitest';
import { parseBlocks, parseInline, plainText, prefixLines, safeHref, wrapSelection } from './markup.ts';

describe('message markup', () => {
  it('parses bold, italic, strikethrough, code, links and mentions into nodes', () => {
    expect(parseInline('**big** and *small* and _also_ ~~gone~~ `x<y` @ada.b see https://example.com/a.')).toEqual([
      { type: 'bold', children: [{ type: 'text', text: 'big' }] },
      { type: 'text', text: ' and ' },
      { type: 'italic', children: [{ type: 'text', text: 'small' }] },
      { type: 'text', text: ' and ' },
      { type: 'italic', children: [{ type: 'text', text: 'also' }] },
      { type: 'text', text: ' ' },
      { type: 'strike', children: [{ type: 'text', text: 'gone' }] },
      { type: 'text', text: ' ' },
      { type: 'code', text: 'x<y' },
      { type: 'text', text: ' ' },
      { type: 'mention', username: 'ada.b' },
      { type: 'text', text: ' see ' },
      { type: 'link', href: 'https://example.com/a', children: [{ type: 'text', text: 'https://example.com/a' }] },
      { type: 'text', text: '.' },
    ]);
  });

  it('never links a script or data URL, and leaves HTML as text', () => {
    expect(parseInline('[click](javascript:alert(1)) <img src=x onerror=alert(1)>')).toEqual([
      { type: 'text', text: '[click](javascript:alert(1)) <img src=x onerror=alert(1)>' },
    ]);
    expect(safeHref('data:text/html,hi')).toBeNull();
    expect(safeHref('mailto:ada@example.com')).toBe('mailto:ada@example.com');
  });

  it('leaves snake_case, e-mail addresses, lone stars and tildes alone', () => {
    expect(parseInline('snake_case_name ada@example.com 2 * 3 * 4 ~ 5 ~~')).toEqual([{ type: 'text', text: 'snake_case_name ada@example.com 2 * 3 * 4 ~ 5 ~~' }]);
  });

  it('parses code blocks, quotes and lists, keeping the lines of paragraphs', () => {
    const text = ['Status:', 'all good', '', '```ts', 'const a = **b**;', '  indented', '```', '> quoted *words*', '> second line', '- one', '- two **2**', '3. three', '4) four', 'after'].join('\n');
    expect(parseBlocks(text)).toEqual([
      { type: 'paragraph', children: [{ type: 'text', text: 'Status:\nall good' }] },
      { type: 'codeBlock', text: 'const a = **b**;\n  indented' },
      { type: 'quote', children: [{ type: 'paragraph', children: [{ type: 'text', text: 'quoted ' }, { type: 'italic', children: [{ type: 'text', text: 'words' }] }, { type: 'text', text: '\nsecond line' }] }] },
      { type: 'list', ordered: false, start: 1, items: [[{ type: 'text', text: 'one' }], [{ type: 'text', text: 'two ' }, { type: 'bold', children: [{ type: 'text', text: '2' }] }]] },
      { type: 'list', ordered: true, start: 3, items: [[{ type: 'text', text: 'three' }], [{ type: 'text', text: 'four' }]] },
      { type: 'paragraph', children: [{ type: 'text', text: 'after' }] },
    ]);
  });

  it('takes code blocks on one line, code right after the fence, and an unclosed fence to the end', () => {
    expect(parseBlocks('```npm ci```')).toEqual([{ type: 'codeBlock', text: 'npm ci' }]);
    expect(parseBlocks('```first line\nsecond```\nafter')).toEqual([
      { type: 'codeBlock', text: 'first line\nsecond' },
      { type: 'paragraph', children: [{ type: 'text', text: 'after' }] },
    ]);
    expect(parseBlocks('```\n> not a quote\n- not a list')).toEqual([{ type: 'codeBlock', text: '> not a quote\n- not a list' }]);
    expect(parseBlocks('text with ``` inside')).toEqual([{ type: 'paragraph', children: [{ type: 'text', text: 'text with ``` inside' }] }]);
  });

  it('does not nest quotes, so hostile depth costs nothing', () => {
    expect(parseBlocks('>> deep')).toEqual([{ type: 'quote', children: [{ type: 'paragraph', children: [{ type: 'text', text: '> deep' }] }] }]);
    const hostile = `${'> '.repeat(20_000)}x\n${'- '.repeat(20_000)}\n${'~~a'.repeat(20_000)}\n${'```'.repeat(5_000)}`;
    const blocks = parseBlocks(hostile);
    expect(blocks.length).toBeGreaterThan(0);
    expect(plainText(hostile).length).toBeGreaterThan(0);
  });

  it('gives plain text for previews and wraps or prefixes a selection', () => {
    expect(plainText('**hi** [there](https://x.org)\n> quoted\n- item')).toBe('hi there\nquoted\nitem');
    expect(wrapSelection('say hi', 4, 6, '**')).toEqual({ text: 'say **hi**', start: 6, end: 8 });
    expect(prefixLines('a\nb\nc', 2, 4, '> ')).toEqual({ text: 'a\n> b\n> c', start: 9, end: 9 });
    expect(prefixLines('a\nb', 0, 3, '1. ').text).toBe('1. a\n2. b');
  });
});
