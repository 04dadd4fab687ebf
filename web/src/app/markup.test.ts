import { describe, expect, it } from 'vitest';
import { parseMarkup, plainText, safeHref, wrapSelection } from './markup.ts';

describe('message markup', () => {
  it('parses bold, italic, code, links and mentions into nodes', () => {
    expect(parseMarkup('**big** and *small* and _also_ `x<y` @ada.b see https://example.com/a.')).toEqual([
      { type: 'bold', children: [{ type: 'text', text: 'big' }] },
      { type: 'text', text: ' and ' },
      { type: 'italic', children: [{ type: 'text', text: 'small' }] },
      { type: 'text', text: ' and ' },
      { type: 'italic', children: [{ type: 'text', text: 'also' }] },
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
    expect(parseMarkup('[click](javascript:alert(1)) <img src=x onerror=alert(1)>')).toEqual([
      { type: 'text', text: '[click](javascript:alert(1)) <img src=x onerror=alert(1)>' },
    ]);
    expect(safeHref('data:text/html,hi')).toBeNull();
    expect(safeHref('mailto:ada@example.com')).toBe('mailto:ada@example.com');
  });

  it('leaves snake_case, e-mail addresses and lone stars alone', () => {
    expect(parseMarkup('snake_case_name ada@example.com 2 * 3 * 4')).toEqual([{ type: 'text', text: 'snake_case_name ada@example.com 2 * 3 * 4' }]);
  });

  it('gives plain text for previews and wraps a selection', () => {
    expect(plainText('**hi** [there](https://x.org)')).toBe('hi there');
    expect(wrapSelection('say hi', 4, 6, '**')).toEqual({ text: 'say **hi**', start: 6, end: 8 });
  });
});
