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
  #dummyHash: Promise<string> | undefined;

  constructor(options: PasswordHasherOptions) {
    this.#cost = options.cost;
    this.#queueMax = options.queueMax;
    this.#concurrency = options.concurrency ?? availableParallelism();
    this.#threads = hashThreads();
    this.#onVerify = options.onVerify;
    this.#trace = options.trace;
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
   * so that response time does not reveal whether an account exists.
   */
  async verifyDummy(password: string): Promise<false> {
    this.#dummyHash ??= this.#withSlot(() => this.#threads.hash("gatehouse-dummy-password", this.#cost)).catch((error: unknown) => {
      this.#dummyHash = undefined; // OVERLOADED now is no reason to fail forever
      throw error;
    });
    await this.verify(password, await this.#dummyHash);
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
