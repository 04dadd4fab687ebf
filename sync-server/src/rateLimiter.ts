// Token buckets keyed by user, username or address: how Outpost says "slow down" to floods
// of logins, updates and messages, with the time after which a retry will pass.
import { OutpostError } from '@outpost/shared-schema';

export interface BucketPolicy {
  /** Burst size. */
  capacity: number;
  /** Tokens regained per second. */
  perSecond: number;
}

export class RateLimiter {
  readonly #policy: BucketPolicy;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #what: string;

  constructor(what: string, policy: BucketPolicy) {
    this.#what = what;
    this.#policy = policy;
  }

  /** Takes `cost` tokens from `key`'s bucket, or throws `rateLimited` with `retryAfterMs`. */
  take(key: string, cost = 1, now = Date.now()): void {
    const { capacity, perSecond } = this.#policy;
    const bucket = this.#buckets.get(key) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    if (bucket.tokens < cost) {
      this.#buckets.set(key, bucket);
      const retryAfterMs = Math.ceil(((Math.min(cost, capacity) - bucket.tokens) / perSecond) * 1000);
      throw new OutpostError('rateLimited', `too many ${this.#what}; retry in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
    }
    bucket.tokens -= cost;
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > 100_000) this.#sweep(now);
  }

  /** Drops full buckets so idle keys cost no memory. */
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.#policy.perSecond >= this.#policy.capacity) this.#buckets.delete(key);
    }
  }
}

/** The limits a node applies; generous for people, tight for scripts. */
export const RateLimits = {
  /** Login attempts per username. */
  loginPerUser: { capacity: 10, perSecond: 1 / 30 },
  /** Logins and sign-ups per address: 30 a minute (the default of AUTH_ATTEMPTS_PER_ADDRESS). */
  authPerAddress: { capacity: 30, perSecond: 1 / 2 },
  /** Update frames a user may send (across devices). */
  updatesPerUser: { capacity: 600, perSecond: 60 },
  /** New messages a user may write; an offline day arrives as one batch, so the burst is large. */
  messagesPerUser: { capacity: 5_000, perSecond: 20 },
} as const satisfies Record<string, BucketPolicy>;

/** `perMinute` attempts per address a minute, with a burst of as many. */
export function authPerAddressPolicy(perMinute: number): BucketPolicy {
  return { capacity: perMinute, perSecond: perMinute / 60 };
}

/** Connection limits: sockets per user and documents per socket. */
export const ConnectionLimits = {
  socketsPerUser: 20,
  documentsPerSocket: 5_000,
} as const;
