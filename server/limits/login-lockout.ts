/**
 * Per-email lockout (docs/API.md): after LOGIN_MAX_FAILURES failed logins
 * the email is refused for LOGIN_LOCKOUT, even with the right password
 * (OWASP Authentication Cheat Sheet, "Account Lockout").
 *
 * Unknown emails are counted and locked exactly like real ones, so a lockout
 * never tells an attacker whether an account exists. Keys are a SHA-256 of the
 * normalised email, so Redis never holds addresses.
 */
import { createHash } from "node:crypto";
import type { RateLimiterAbstract } from "rate-limiter-flexible";
import { appError } from "../errors.ts";
import { retryAfterSeconds } from "./rate-limit.ts";

function emailKey(email: string): string {
  return createHash("sha256").update(email, "utf8").digest("base64url");
}

export class LoginLockout {
  readonly #counter: RateLimiterAbstract;
  readonly #maxFailures: number;
  readonly #lockoutSeconds: number;

  /** `counter` counts failures over a window of `lockoutSeconds`, with `maxFailures` points. */
  constructor(counter: RateLimiterAbstract, maxFailures: number, lockoutSeconds: number) {
    this.#counter = counter;
    this.#maxFailures = maxFailures;
    this.#lockoutSeconds = lockoutSeconds;
  }

  /**
   * Runs one secret check (a password, later a second-factor code) under the
   * email's lockout, and is the only way callers use it: RATE_LIMITED while the
   * email is locked; a wrong secret (`check` answers false) counts as a failure;
   * a right one forgets the failures. Answers what `check` answered.
   *
   * `forgetOnSuccess: false` keeps the failures after a right answer: a right
   * password of a user with a second factor is only half a sign-in, and must
   * not wipe the wrong codes counted so far (else signing in again between
   * guesses would lift the lockout on the codes).
   */
  async guard(email: string, check: () => Promise<boolean>, options: { forgetOnSuccess?: boolean } = {}): Promise<boolean> {
    await this.assertNotLocked(email);
    if (!(await check())) {
      await this.recordFailure(email);
      return false;
    }
    if (options.forgetOnSuccess ?? true) await this.reset(email);
    return true;
  }

  /** Throws RATE_LIMITED (with Retry-After) while the email is locked. */
  async assertNotLocked(email: string): Promise<void> {
    const res = await this.#counter.get(emailKey(email));
    if (res !== null && res.consumedPoints >= this.#maxFailures) {
      throw appError("RATE_LIMITED", { retryAfter: retryAfterSeconds(res) });
    }
  }

  /** Counts a failed login; the failure that reaches the limit locks the email for the full lockout. */
  async recordFailure(email: string): Promise<void> {
    const key = emailKey(email);
    const res = await this.#counter.penalty(key, 1);
    // block() restarts the window, so the lock lasts LOGIN_LOCKOUT from the
    // failure that caused it, however early in the window the first one was.
    if (res.consumedPoints === this.#maxFailures) await this.#counter.block(key, this.#lockoutSeconds);
  }

  /** Forgets the failures after a successful login. */
  async reset(email: string): Promise<void> {
    await this.#counter.delete(emailKey(email));
  }
}
