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
import type { MailKind } from "../audit/security-log.ts";
import { Refused, type Reservations } from "./reservations.ts";

function recipientKey(kind: MailKind, email: string): string {
  return `${kind}:to:${createHash("sha256").update(email.trim().toLowerCase(), "utf8").digest("base64url")}`;
}

export class MailThrottle {
  readonly #counters: Reservations[];

  /** `perMinute` and `perHour` take one point per mail, over 60 s and 3600 s. */
  constructor(perMinute: Reservations, perHour: Reservations) {
    this.#counters = [perMinute, perHour];
  }

  /**
   * Counts one mail of `kind` to `email` (for `userId`, when the recipient
   * has an account); false when any of its limits is spent: send nothing.
   */
  async allow(kind: MailKind, email: string, userId: string | null): Promise<boolean> {
    const keys = [recipientKey(kind, email), ...(userId === null ? [] : [`${kind}:user:${userId}`])];
    // Every window takes its point atomically (server/limits/reservations.ts),
    // so mails requested at once cannot pass a limit between them. A point
    // taken in one window stays taken when another refuses: the attempt counts.
    const taken = await Promise.all(this.#counters.flatMap((counter) => keys.map((key) => counter.take(key))));
    const allowed = taken.every((ticket) => !(ticket instanceof Refused));
    return allowed;
  }
}
