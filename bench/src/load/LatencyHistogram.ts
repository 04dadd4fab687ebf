// Latencies recorded in generator processes and merged in the orchestrator: log-spaced buckets
// (2% wide) keep percentiles honest from microseconds to minutes in a few kilobytes per phase.

const MIN_MS = 0.001;
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** Buckets up to MIN_MS × GROWTH^BUCKETS ≈ 34 minutes; anything longer lands in the last one. */
const BUCKETS = 1_200;

/** A histogram's plain data, as it crosses process boundaries. */
export interface HistogramData {
  counts: Float64Array;
  count: number;
  max: number;
}

export class LatencyHistogram {
  readonly #counts: Float64Array;
  #count = 0;
  #max = 0;

  constructor(data?: HistogramData) {
    this.#counts = data ? Float64Array.from(data.counts) : new Float64Array(BUCKETS);
    this.#count = data?.count ?? 0;
    this.#max = data?.max ?? 0;
  }

  record(ms: number): void {
    const value = Math.max(ms, MIN_MS);
    const bucket = Math.min(BUCKETS - 1, Math.floor(Math.log(value / MIN_MS) / LOG_GROWTH));
    this.#counts[bucket] = (this.#counts[bucket] ?? 0) + 1;
    this.#count += 1;
    if (value > this.#max) this.#max = value;
  }

  get count(): number {
    return this.#count;
  }

  get max(): number {
    return this.#max;
  }

  /** Adds another histogram's samples to this one. */
  add(other: LatencyHistogram | HistogramData): void {
    const data = other instanceof LatencyHistogram ? other.data() : other;
    for (let i = 0; i < BUCKETS; i++) this.#counts[i] = (this.#counts[i] ?? 0) + (data.counts[i] ?? 0);
    this.#count += data.count;
    this.#max = Math.max(this.#max, data.max);
  }

  /** The value below which `p` (0..1) of the samples lie: the bucket's upper edge, never above max. */
  percentile(p: number): number {
    if (this.#count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(p * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) return Math.min(this.#max, MIN_MS * GROWTH ** (i + 1));
    }
    return this.#max;
  }

  data(): HistogramData {
    return { counts: Float64Array.from(this.#counts), count: this.#count, max: this.#max };
  }
}
