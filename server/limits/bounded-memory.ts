/**
 * A memory store for rate-limiter-flexible's `RateLimiterMemory` that holds
 * at most `capacity` keys, so that counters keyed by client IP or email stay
 * bounded in memory whatever arrives (a flood of distinct addresses, each one
 * a new key, grew the stock store by ~650 bytes and one timer per key).
 *
 * - No timer per key: an entry's expiry is checked when it is read, and
 *   expired entries are swept from the oldest end when the store is full.
 * - When full of live entries, the least recently written key is dropped.
 *   Dropping a counter forgets its count (the key starts again at zero): the
 *   trade-off of any bounded store, and why a deployment that expects more
 *   distinct clients within a window than `capacity` sets REDIS_URL, whose
 *   counters expire in Redis instead (docs/security.md, "Bounded limiter memory").
 *
 * It implements the four methods `RateLimiterMemory` calls on its
 * `_memoryStorage` (rate-limiter-flexible 11.4, pinned in package.json);
 * tests/limits-memory.test.ts checks both the bound and the counting through
 * the limiter itself, so an upgrade that changes that contract fails there.
 */
import { RateLimiterMemory, RateLimiterRes, type IRateLimiterOptions } from "rate-limiter-flexible";

/** Keys one in-memory counter keeps at most (about 10 MB of entries at the full count). */
const MEMORY_COUNTER_CAPACITY = 100_000;

interface Entry {
  value: number;
  /** Epoch ms, or null for no expiry. */
  expiresAt: number | null;
}

class BoundedMemoryStorage {
  readonly #capacity: number;
  readonly #entries = new Map<string, Entry>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== null && entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  incrby(key: string, value: number, durationSec: number): RateLimiterRes {
    const now = Date.now();
    const entry = this.#live(key, now);
    if (entry === undefined) return this.set(key, value, durationSec);
    entry.value += value;
    return new RateLimiterRes(0, entry.expiresAt === null ? -1 : entry.expiresAt - now, entry.value, false);
  }

  set(key: string, value: number, durationSec: number): RateLimiterRes {
    const now = Date.now();
    const durationMs = durationSec * 1000;
    // Re-inserted at the newest end.
    this.#entries.delete(key);
    this.#makeRoom(now);
    this.#entries.set(key, { value: Math.trunc(value), expiresAt: durationMs > 0 ? now + durationMs : null });
    return new RateLimiterRes(0, durationMs > 0 ? durationMs : -1, Math.trunc(value), true);
  }

  get(key: string): RateLimiterRes | null {
    const now = Date.now();
    const entry = this.#live(key, now);
    if (entry === undefined) return null;
    return new RateLimiterRes(0, entry.expiresAt === null ? -1 : entry.expiresAt - now, entry.value, false);
  }

  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  /** Frees one slot when full: expired entries first (oldest end), else the oldest entry. */
  #makeRoom(now: number): void {
    if (this.#entries.size < this.#capacity) return;
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt !== null && entry.expiresAt <= now) this.#entries.delete(key);
      // Entries were written in time order: a window of live ones means the rest are live too, roughly.
      else break;
    }
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }
}

/** A `RateLimiterMemory` whose keys are bounded by `capacity`. */
export function boundedMemoryLimiter(options: IRateLimiterOptions, capacity = MEMORY_COUNTER_CAPACITY): RateLimiterMemory {
  const limiter = new RateLimiterMemory(options);
  (limiter as unknown as { _memoryStorage: BoundedMemoryStorage })._memoryStorage = new BoundedMemoryStorage(capacity);
  return limiter;
}

/** How many keys a limiter made by `boundedMemoryLimiter` holds (tests, load runs). */
export function memoryKeyCount(limiter: RateLimiterMemory): number {
  return (limiter as unknown as { _memoryStorage: BoundedMemoryStorage })._memoryStorage.size;
}
