/**
 * Counters for the abuse limits of docs/API.md, on rate-limiter-flexible:
 * in process memory, or in Redis (shared by every instance) with an in-memory
 * insurance limiter that takes over while Redis is unreachable.
 */
import type { Redis } from "ioredis";
import cluster from "node:cluster";
import {
  RateLimiterCluster,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from "rate-limiter-flexible";
import { appError } from "../errors.ts";
import { boundedMemoryLimiter } from "./bounded-memory.ts";

export interface CounterOptions {
  /** Namespace of the counter's keys (in Redis: after the configured key prefix). */
  keyPrefix: string;
  /** Points in one window. */
  points: number;
  /** Length of the window, in seconds. */
  duration: number;
}

/** How long a cluster worker waits for the primary's counters before failing the call. */
const CLUSTER_TIMEOUT_MS = 1_000;

/**
 * A counter store: Redis with an in-memory fallback when a client is given;
 * otherwise process memory, which in a cluster worker (WEB_CONCURRENCY > 1)
 * is the primary's memory, so the workers share one count instead of each
 * allowing the full limit (the primary runs `RateLimiterClusterMaster`).
 */
export function createCounter(options: CounterOptions, redis: Redis | null): RateLimiterAbstract {
  if (redis === null && cluster.isWorker) return new RateLimiterCluster({ ...options, timeoutMs: CLUSTER_TIMEOUT_MS });
  // Bounded, whatever keys arrive (server/limits/bounded-memory.ts).
  const memory = boundedMemoryLimiter(options);
  if (redis === null) return memory;
  return new RateLimiterRedis({
    ...options,
    storeClient: redis,
    // Go to the insurance limiter at once while the connection is down,
    // rather than after a failed command.
    rejectIfRedisNotReady: true,
    insuranceLimiter: memory,
  });
}

/** Whole seconds until a refused caller may try again (at least 1). */
export function retryAfterSeconds(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

/** A fixed-window limit: `consume(key)` throws RATE_LIMITED (with Retry-After) past the limit. */
export class RateLimit {
  readonly #counter: RateLimiterAbstract;

  constructor(counter: RateLimiterAbstract) {
    this.#counter = counter;
  }

  /** Counts one call for the key; throws RATE_LIMITED when the window's points are spent. */
  async consume(key: string): Promise<void> {
    try {
      await this.#counter.consume(key);
    } catch (error) {
      // rate-limiter-flexible rejects with a RateLimiterRes when the limit is hit.
      if (error instanceof RateLimiterRes) throw appError("RATE_LIMITED", { retryAfter: retryAfterSeconds(error) });
      throw error;
    }
  }
}
