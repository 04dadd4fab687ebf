// How Outpost says "slow down" to floods of sign-ins, updates and messages, with the time after
// which a retry will pass. rate-limiter-flexible keeps the counts: in memory on one node, in
// Redis when several nodes share it (so a flood spread over nodes is still one flood), with the
// in-memory limiter taking over while Redis is away.
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { OutpostError } from '@outpost/shared-schema';

export interface BucketPolicy {
  /** How many in a burst. */
  capacity: number;
  /** How many per second, on average. */
  perSecond: number;
}

export class RateLimiter {
  readonly #limiter: RateLimiterAbstract;
  readonly #what: string;

  /** A limit of `policy.capacity` per `capacity / perSecond` seconds, shared through `redis` when given. */
  constructor(what: string, policy: BucketPolicy, redis: Redis | null = null) {
    this.#what = what;
    const points = policy.capacity;
    const duration = Math.max(1, Math.round(policy.capacity / policy.perSecond));
    const keyPrefix = `outpost:limit:${what.replace(/\W+/g, '-')}`;
    const memory = new RateLimiterMemory({ points, duration, keyPrefix });
    this.#limiter = redis ? new RateLimiterRedis({ storeClient: redis, points, duration, keyPrefix, insuranceLimiter: memory, rejectIfRedisNotReady: true }) : memory;
  }

  /** Takes `cost` from `key`'s allowance, or throws `rateLimited` with `retryAfterMs`. */
  async take(key: string, cost = 1): Promise<void> {
    try {
      await this.#limiter.consume(key, cost);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfterMs = Math.max(1, rejection.msBeforeNext);
      throw new OutpostError('rateLimited', `too many ${this.#what}; retry in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
    }
  }
}

/** The limits a node applies; generous for people, tight for scripts. */
export const RateLimits = {
  /** Login attempts per username. */
  loginPerUser: { capacity: 10, perSecond: 1 / 30 },
  /** Logins and sign-ups per address: 30 a minute (the default of AUTH_ATTEMPTS_PER_ADDRESS). */
  authPerAddress: { capacity: 30, perSecond: 1 / 2 },
  /** Two-factor codes tried against one account (sign-in, enrolment, turning it off): 10 per 5 minutes. */
  secondFactorCodesPerUser: { capacity: 10, perSecond: 1 / 30 },
  /** Update frames a user may send (across devices). */
  updatesPerUser: { capacity: 600, perSecond: 60 },
  /** New messages a user may write; an offline day arrives as one batch, so the burst is large. */
  messagesPerUser: { capacity: 5_000, perSecond: 20 },
  /** Server searches a user may run (typing sends one every few hundred ms). */
  searchesPerUser: { capacity: 60, perSecond: 5 },
} as const satisfies Record<string, BucketPolicy>;

/** `perMinute` attempts per address a minute, with a burst of as many. */
export function authPerAddressPolicy(perMinute: number): BucketPolicy {
  return { capacity: perMinute, perSecond: perMinute / 60 };
}

/** Connection limits: sockets per user, document connections per socket and per document. */
export const ConnectionLimits = {
  socketsPerUser: 20,
  documentsPerSocket: 5_000,
  /** The same document opened again on one socket (a re-synced copy beside the old one). */
  connectionsPerDocument: 4,
} as const;
