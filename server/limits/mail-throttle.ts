/**
 * Account mail per recipient and per user (verification and reset mail today;
 * magic links and email codes use the same throttle): at most MAIL_PER_MINUTE
 * a minute and MAIL_PER_HOUR an hour of each kind, by default 1 and 5. Past
 * it the caller still answers `{ success: true }` and sends nothing, so the
 * limit reveals nothing about the account, and nobody can make Gatehouse
 * flood an inbox (OWASP Forgot Password Cheat Sheet; ASVS 5.0 V6.3: limit
 * the rate of mail an anonymous caller can trigger).
 *
 * Counted per recipient address (a SHA-256 of it, like the lockout keys) and
 * per user id, in the same stores as the other limits: process memory, or
 * Redis across instances.
 */
import { createHash } from "node:crypto";
import { RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { MailKind } from "../audit/security-log.ts";

function recipientKey(kind: MailKind, email: string): string {
  return `${kind}:to:${createHash("sha256").update(email.trim().toLowerCase(), "utf8").digest("base64url")}`;
}

export class MailThrottle {
  readonly #counters: RateLimiterAbstract[];

  /** `perMinute` and `perHour` count one point per mail, over 60 s and 3600 s. */
  constructor(perMinute: RateLimiterAbstract, perHour: RateLimiterAbstract) {
    this.#counters = [perMinute, perHour];
  }

  /**
   * Counts one mail of `kind` to `email` (for `userId`, when the recipient
   * has an account); false when any of its limits is spent: send nothing.
   */
  async allow(kind: MailKind, email: string, userId: string | null): Promise<boolean> {
    const keys = [recipientKey(kind, email), ...(userId === null ? [] : [`${kind}:user:${userId}`])];
    // Every counter counts the attempt, so a spent hour also holds back the next minute.
    const results = await Promise.allSettled(this.#counters.flatMap((counter) => keys.map((key) => counter.consume(key))));
    let allowed = true;
    for (const result of results) {
      if (result.status === "fulfilled") continue;
      // rate-limiter-flexible rejects with a RateLimiterRes past the limit; anything else is a store failure.
      if (!(result.reason instanceof RateLimiterRes)) throw result.reason;
      allowed = false;
    }
    return allowed;
  }
}
