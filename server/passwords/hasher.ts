/**
 * Password hashing with bcrypt, bounded so that a login flood cannot starve
 * the rest of the server.
 *
 * - bcrypt reads at most 72 bytes, so two long passwords sharing a prefix would
 *   collide. We bcrypt a base64 HMAC-SHA-256 of the password instead (44 bytes,
 *   no NUL), which keeps every byte significant. The fixed HMAC key separates our
 *   pre-hash from plain SHA-256 lists ("password shucking"); see OWASP Password
 *   Storage Cheat Sheet, "Pre-Hashing Passwords with bcrypt".
 * - bcrypt runs on worker threads of lowered CPU priority, never on the event
 *   loop, so that a login flood cannot starve the requests that need no hash
 *   (server/passwords/hash-threads.ts). At most `concurrency` hashes run at once
 *   (default: one per core); at most `queueMax` wait, beyond which calls fail
 *   at once with OVERLOADED (docs/API.md).
 */
import { createHmac } from "node:crypto";
import { availableParallelism } from "node:os";
import { appError } from "../errors.ts";
import { hashThreads, type HashThreads } from "./hash-threads.ts";

const PREHASH_KEY = "gatehouse/bcrypt-prehash/v1";
/** Seconds a client refused with OVERLOADED is told to wait. */
const OVERLOADED_RETRY_AFTER = 1;

function prehash(password: string): string {
  return createHmac("sha256", PREHASH_KEY).update(password, "utf8").digest("base64");
}

/** The work factor a bcrypt hash was made with (`$2b$12$...` → 12), or null for anything else. */
export function bcryptCostOf(hash: string): number | null {
  const match = /^\$2[abxy]\$(\d{2})\$/.exec(hash);
  return match ? Number(match[1]) : null;
}

/** Runs one piece of hashing work inside a trace span (server/observability/tracing.ts). */
type TraceHashing = <T>(name: "password.hash" | "password.verify", work: () => Promise<T>) => Promise<T>;

export interface PasswordHasherOptions {
  cost: number;
  queueMax: number;
  concurrency?: number;
  /** Called as each verification starts (tests count verifications with it). */
  onVerify?: () => void;
  /** Wraps each hash or verification (its wait for a slot included) in a span; unset: no tracing. */
  trace?: TraceHashing;
}

/** What the hashing pool is doing, for /metrics. */
export interface HasherLoad {
  /** Hashes running now (at most `concurrency`). */
  running: number;
  /** Calls waiting for a slot (at most PASSWORD_QUEUE_MAX). */
  waiting: number;
  /** Slots: hashes allowed to run at once. */
  concurrency: number;
  /** Slot-seconds spent hashing since start; its rate over `concurrency` is the pool's utilisation. */
  busySeconds: number;
  /** Calls refused at once with OVERLOADED because the queue was full. */
  refused: number;
}

/** Hashes and verifies passwords with bounded concurrency. */
export class PasswordHasher {
  readonly #cost: number;
  readonly #queueMax: number;
  readonly #concurrency: number;
  readonly #waiting: Array<() => void> = [];
  readonly #threads: HashThreads;
  readonly #onVerify: (() => void) | undefined;
  readonly #trace: TraceHashing | undefined;
  #running = 0;
  #busyMs = 0;
  #refused = 0;
  /** The cost of the dummy hash: the one most stored hashes have (server/passwords/prevailing-cost.ts). */
  #dummyCost: number;
  readonly #dummyHashes = new Map<number, Promise<string>>();

  constructor(options: PasswordHasherOptions) {
    this.#cost = options.cost;
    this.#queueMax = options.queueMax;
    this.#concurrency = options.concurrency ?? availableParallelism();
    this.#threads = hashThreads();
    this.#onVerify = options.onVerify;
    this.#trace = options.trace;
    this.#dummyCost = options.cost;
  }

  /** The configured cost (BCRYPT_COST). */
  get cost(): number {
    return this.#cost;
  }

  /**
   * Whether a stored hash was made at another cost than the configured one; a
   * successful login then re-hashes the password (OWASP Password Storage
   * Cheat Sheet, "Upgrading the work factor").
   */
  needsRehash(hash: string): boolean {
    return bcryptCostOf(hash) !== this.#cost;
  }

  /** The cost `verifyDummy` spends. */
  get dummyCost(): number {
    return this.#dummyCost;
  }

  /** Makes `verifyDummy` spend the time of a hash of this cost (the one most stored hashes have). */
  setDummyCost(cost: number): void {
    this.#dummyCost = cost;
  }

  /** bcrypt hash of the password at the configured cost. */
  hash(password: string): Promise<string> {
    const work = () => this.#withSlot(() => this.#threads.hash(prehash(password), this.#cost));
    return this.#trace ? this.#trace("password.hash", work) : work();
  }

  /** Whether the password matches the stored hash. */
  verify(password: string, hash: string): Promise<boolean> {
    const work = () =>
      this.#withSlot(() => {
        this.#onVerify?.();
        return this.#threads.compare(prehash(password), hash);
      });
    return this.#trace ? this.#trace("password.verify", work) : work();
  }

  /**
   * Spends the same time as `verify` against a real hash, for unknown emails,
   * so that response time does not reveal whether an account exists. The
   * dummy hash has the cost most stored hashes have, not BCRYPT_COST: while
   * costs change, known emails answer at the cost of their stored hash, and a
   * dummy at the new cost would single out the unknown ones.
   */
  async verifyDummy(password: string): Promise<false> {
    const cost = this.#dummyCost;
    let dummy = this.#dummyHashes.get(cost);
    if (dummy === undefined) {
      dummy = this.#withSlot(() => this.#threads.hash("gatehouse-dummy-password", cost)).catch((error: unknown) => {
        this.#dummyHashes.delete(cost); // OVERLOADED now is no reason to fail forever
        throw error;
      });
      this.#dummyHashes.set(cost, dummy);
    }
    await this.verify(password, await dummy);
    return false;
  }

  /** Hashes running and waiting, time spent, calls refused: for metrics and tests. */
  get load(): HasherLoad {
    return {
      running: this.#running,
      waiting: this.#waiting.length,
      concurrency: this.#concurrency,
      busySeconds: this.#busyMs / 1000,
      refused: this.#refused,
    };
  }

  async #withSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrency) {
      if (this.#waiting.length >= this.#queueMax) {
        this.#refused++;
        throw appError("OVERLOADED", { retryAfter: OVERLOADED_RETRY_AFTER });
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.#busyMs += performance.now() - started;
      // Hand the slot straight to the next waiter, or give it back.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
