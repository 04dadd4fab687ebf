import { describe, expect, it } from 'vitest';
import { fts5Match, HIT_END, HIT_START, markedSnippet, snippetParts, tsQuery } from './searchSyntax.ts';

describe('search syntax', () => {
  it('turns any text into quoted whole words', () => {
    expect(fts5Match('Pump "seal" OR NEAR(x*')).toBe('"pump" AND "seal" AND "or" AND "near" AND "x"');
    expect(tsQuery("pump' & !seal:*")).toBe("'pump' & 'seal'");
    for (const text of ['', '"', "'", '\\', '*', '-', ':', '()', '  ']) {
      expect(fts5Match(text)).toBeNull();
      expect(tsQuery(text)).toBeNull();
    }
    expect(fts5Match('Émile café')).toBe('"émile" AND "café"');
  });

  it('splits marked snippets into pieces', () => {
    expect(snippetParts(`a ${HIT_START}pump${HIT_END} seal`)).toEqual([
      { text: 'a ', hit: false },
      { text: 'pump', hit: true },
      { text: ' seal', hit: false },
    ]);
    expect(snippetParts(`${HIT_END}x${HIT_START}`)).toEqual([{ text: 'x', hit: false }]);
  });

  it('cuts a snippet around the first match and marks the words the index matched', () => {
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`);
    words[30] = 'Pump';
    const parts = markedSnippet(`${words.join(' ')}.`, 'pump', 10);
    expect(parts.filter((p) => p.hit).map((p) => p.text)).toEqual(['Pump']);
    const text = parts.map((p) => p.text).join('');
    expect(text.startsWith('…')).toBe(true);
    expect(text).toContain('w28 w29 Pump w31');
    expect(text.endsWith('…')).toBe(true);
    expect(markedSnippet('the pump-room.pdf', 'room pump').filter((p) => p.hit).map((p) => p.text)).toEqual(['pump', 'room']);
    expect(markedSnippet('Café open', 'cafe').filter((p) => p.hit).map((p) => p.text)).toEqual(['Café']);
    // Whole words only.
    expect(markedSnippet('pumps pump', 'seal pump').filter((p) => p.hit).map((p) => p.text)).toEqual(['pump']);
  });
});
