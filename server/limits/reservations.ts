/**
 * Atomic reservations of points in a fixed window: the one primitive under
 * every abuse limit (per-IP calls, failed secret checks).
 *
 * A limit that reads a counter, does the work, and only then records it is
 * check-then-act: N requests arriving together all read the same count and
 * all pass. Here a point is *taken* before the work, by one atomic operation
 * of the store (an INCR-style update in Redis, a synchronous update in
 * process memory, the cluster primary's memory over IPC), so at most
 * `points` takes succeed per window whatever the concurrency; the caller
 * gives the point back when the work turns out not to count (a right
 * password). OWASP Authentication Cheat Sheet, "Account Lockout"; the
 * race is CWE-367.
 *
 * With Redis every take is also counted in this process's memory (the
 * "shadow"). While Redis answers, Redis alone decides; the shadow is what
 * keeps this instance honest when Redis goes away mid-window: its earlier
 * takes still count, instead of a fresh in-memory window handing out the
 * full limit again. A point is given back to the stores that took it, never
 * to another.
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

export interface ReservationOptions {
  /** Namespace of the keys (in Redis: after the configured key prefix). */
  keyPrefix: string;
  /** Points in one window. */
  points: number;
  /** Length of the window, in seconds. */
  duration: number;
}

/** How long a cluster worker waits for the primary's counters before failing the call. */
const CLUSTER_TIMEOUT_MS = 1_000;

/** One point taken; `consumed` is the count in the window including it. */
export interface Ticket {
  readonly consumed: number;
  /** Gives the point back (once; later calls do nothing). */
  giveBack(): Promise<void>;
  /** Locks the key for `seconds` from now in the stores that took the point. */
  lock(seconds: number): Promise<void>;
}

/** A refused take: the window's points are spent; `retryAfterMs` until one frees. */
export class Refused {
  constructor(readonly retryAfterMs: number) {}
  /** Whole seconds for Retry-After (at least 1). */
  get retryAfter(): number {
    return Math.max(1, Math.ceil(this.retryAfterMs / 1000));
  }
}

/** Points per key per window, taken atomically before the work they pay for. */
export class Reservations {
  readonly #shared: RateLimiterAbstract | null;
  readonly #local: RateLimiterAbstract;
  readonly #sharedReady: () => boolean;

  /**
   * `shared`: Redis (may fail; `sharedReady` says whether to try it); `local`:
   * this process's memory, or in a cluster worker the primary's.
   */
  constructor(local: RateLimiterAbstract, shared: RateLimiterAbstract | null = null, sharedReady: () => boolean = () => true) {
    this.#local = local;
    this.#shared = shared;
    this.#sharedReady = sharedReady;
  }

  /** Takes one point for `key`, or answers `Refused` when the window has none left. */
  async take(key: string): Promise<Ticket | Refused> {
    if (this.#shared === null) {
      let local: RateLimiterRes | Refused;
      try {
        local = await takeFrom(this.#local, key);
      } catch (cause) {
        // The cluster primary did not answer in time: no point was taken, so
        // nothing may be checked (fail closed), but it is load, not a bug.
        throw appError("OVERLOADED", { retryAfter: 1, cause });
      }
      return local instanceof Refused ? local : this.#ticket(key, local.consumedPoints, [this.#local]);
    }
    // The shadow counts every take of this process, refused or not (memory
    // counts a refused consume too); Redis decides while it answers.
    const local = await takeFrom(this.#local, key);
    let shared: RateLimiterRes | Refused | null = null;
    if (this.#sharedReady()) {
      try {
        shared = await takeFrom(this.#shared, key);
      } catch {
        // Redis failed mid-call: the shadow decides on its own.
        shared = null;
      }
    }
    if (shared === null) {
      if (local instanceof Refused) {
        await giveBackTo(this.#local, key);
        return local;
      }
      return this.#ticket(key, local.consumedPoints, [this.#local]);
    }
    if (shared instanceof Refused) {
      await giveBackTo(this.#local, key);
      return shared;
    }
    return this.#ticket(key, shared.consumedPoints, [this.#local, this.#shared]);
  }

  #ticket(key: string, consumed: number, took: RateLimiterAbstract[]): Ticket {
    let open = true;
    return {
      consumed,
      giveBack: async () => {
        if (!open) return;
        open = false;
        await Promise.all(took.map((store) => giveBackTo(store, key)));
      },
      lock: async (seconds) => {
        await Promise.all(took.map((store) => store.block(key, seconds).catch(() => undefined)));
      },
    };
  }

  /** Forgets every point of `key` in every store (a successful login, a password reset). */
  async clear(key: string): Promise<void> {
    const stores = this.#shared === null ? [this.#local] : [this.#local, this.#shared];
    await Promise.all(stores.map((store) => store.delete(key).catch(() => false)));
  }
}

async function takeFrom(store: RateLimiterAbstract, key: string): Promise<RateLimiterRes | Refused> {
  try {
    return await store.consume(key, 1);
  } catch (error) {
    // rate-limiter-flexible rejects with a RateLimiterRes when the points are spent.
    if (error instanceof RateLimiterRes) return new Refused(error.msBeforeNext);
    throw error;
  }
}

/**
 * Gives one point back, unless the key's window is already over: a point
 * returned into a fresh window would hand out one more than the limit.
 * A store that cannot be reached keeps the point (the safe side).
 */
async function giveBackTo(store: RateLimiterAbstract, key: string): Promise<void> {
  try {
    const current = await store.get(key);
    if (current === null || current.consumedPoints <= 0) return;
    await store.reward(key, 1);
  } catch {
    // Unreachable store: the point stays taken until its window ends.
  }
}

/**
 * Reservations for a limit: in process memory; in a cluster worker
 * (WEB_CONCURRENCY > 1, no Redis) in the primary's memory, so workers share
 * one count (the primary runs `RateLimiterClusterMaster`); with Redis, in
 * Redis (shared by every instance) plus this process's shadow count. Every
 * in-memory store is bounded to 100,000 keys (server/limits/bounded-memory.ts),
 * so a flood of distinct IPs or emails cannot grow it without end.
 */
export function createReservations(options: ReservationOptions, redis: Redis | null): Reservations {
  if (redis === null) {
    if (cluster.isWorker) return new Reservations(new RateLimiterCluster({ ...options, timeoutMs: CLUSTER_TIMEOUT_MS }));
    return new Reservations(boundedMemoryLimiter(options));
  }
  const shared = new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true });
  return new Reservations(boundedMemoryLimiter(options), shared, () => redis.status === "ready");
}
