// Every emoji with its English name and keywords, for the reaction picker's search. The data is
// emojibase's (kept current with each Unicode release, CLDR names and tags): a separate chunk,
// loaded the first time the picker opens and precached by the service worker for offline use.

export interface Emoji {
  emoji: string;
  label: string;
  tags: readonly string[];
  group: number;
}

/** emojibase's group numbers, as the picker titles them (2, skin tone parts, is left out). */
export const EMOJI_GROUPS: Readonly<Record<number, string>> = {
  0: 'Smileys & emotion',
  1: 'People & body',
  3: 'Animals & nature',
  4: 'Food & drink',
  5: 'Travel & places',
  6: 'Activities',
  7: 'Objects',
  8: 'Symbols',
  9: 'Flags',
};

interface CompactEmoji {
  unicode: string;
  label: string;
  tags?: string[];
  group?: number;
  order?: number;
}

let loading: Promise<Emoji[]> | undefined;

export function loadEmoji(): Promise<Emoji[]> {
  loading ??= import('emojibase-data/en/compact.json').then(({ default: data }) =>
    (data as CompactEmoji[])
      .filter((e) => e.group !== undefined && e.group in EMOJI_GROUPS)
      .sort((a, b) => (a.order ?? 0) - (b.order ?? 0))
      .map((e) => ({ emoji: e.unicode, label: e.label, tags: e.tags ?? [], group: e.group! })),
  );
  return loading;
}

/**
 * Emoji whose name or keywords start with every word of `query` ("thumbs up", "party"): the one
 * named exactly so first, then names that start with the query, then the rest in Unicode order.
 */
export function searchEmoji(all: readonly Emoji[], query: string): Emoji[] {
  const needle = query.trim().toLowerCase();
  const words = needle.split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...all];
  const found = all.filter((e) => {
    const names = [...e.label.toLowerCase().split(/[\s:,-]+/), ...e.tags];
    return words.every((word) => names.some((name) => name.startsWith(word)));
  });
  const rank = (e: Emoji) => (e.label.toLowerCase() === needle ? 0 : e.label.toLowerCase().startsWith(needle) ? 1 : 2);
  return found.map((e, i) => ({ e, i })).sort((a, b) => rank(a.e) - rank(b.e) || a.i - b.i).map(({ e }) => e);
}
