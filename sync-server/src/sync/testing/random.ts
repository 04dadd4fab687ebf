// Seeded randomness for the generators (honest sessions, hostile updates): a failing seed replays
// exactly, and `SEED=n` / `SEEDS=n` choose what a run covers.

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** An integer in [low, high]. */
  between(low: number, high: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  shuffle<T>(items: T[]): T[];
  /** A lowercase UUID (version 4 layout), from the seed. */
  uuid(): string;
}

/** mulberry32: small, fast, and good enough to explore; not for anything secret. */
export function rngOf(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const hex = (digits: number) => {
    let out = '';
    for (let i = 0; i < digits; i++) out += int(16).toString(16);
    return out;
  };
  return {
    next,
    int,
    between: (low, high) => low + int(high - low + 1),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]) => {
      if (items.length === 0) throw new Error('pick from nothing');
      return items[int(items.length)] as T;
    },
    shuffle: <T>(items: T[]) => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [items[i], items[j]] = [items[j] as T, items[i] as T];
      }
      return items;
    },
    uuid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[int(4)]}${hex(3)}-${hex(12)}`,
  };
}

/**
 * The seeds a generator runs: `SEED=n` replays one, `SEEDS=n` runs seeds 1..n, `SEEDS=a-b`
 * seeds a..b (a range nobody has run yet), otherwise 1..`defaultCount`.
 */
export function seedsToRun(defaultCount: number): number[] {
  if (process.env.SEED) return [Number(process.env.SEED)];
  const range = /^(\d+)-(\d+)$/.exec(process.env.SEEDS ?? '');
  const [from, to] = range ? [Number(range[1]), Number(range[2])] : [1, process.env.SEEDS ? Number(process.env.SEEDS) : defaultCount];
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || to < from) throw new Error(`SEEDS must be n or a-b with 1 ≤ a ≤ b, not ${process.env.SEEDS}`);
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
