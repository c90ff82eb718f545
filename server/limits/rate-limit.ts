/**
 * A fixed-window limit on calls (AUTH_RATE_LIMIT_PER_MINUTE per client IP):
 * each call takes a point before it runs (server/limits/reservations.ts), so
 * calls arriving at once can never exceed the limit between them.
 */
import { appError } from "../errors.ts";
import { Refused, type Reservations } from "./reservations.ts";

/** `consume(key)` takes one point for the call, or throws RATE_LIMITED (with Retry-After). */
export class RateLimit {
  readonly #reservations: Reservations;

  constructor(reservations: Reservations) {
    this.#reservations = reservations;
  }

  /** Counts one call for the key; throws RATE_LIMITED when the window's points are spent. */
  async consume(key: string): Promise<void> {
    const taken = await this.#reservations.take(key);
    if (taken instanceof Refused) throw appError("RATE_LIMITED", { retryAfter: taken.retryAfter });
  }
}
