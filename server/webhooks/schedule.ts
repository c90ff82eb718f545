/**
 * When a failed delivery is tried again: exponential backoff from a base of
 * 5 s, four times longer each time, plus up to 10 % jitter so that endpoints
 * coming back are not hit by every queued delivery at once. Nine attempts in
 * all: retries after 5 s, 20 s, 80 s, 5 min, 21 min, 85 min, 5.7 h and 22.8 h,
 * about 30 hours from the first attempt to the last, after which the delivery
 * is marked failed (an admin may still redeliver it).
 */

/** The delay before the first retry, in ms. */
export const DEFAULT_RETRY_BASE_MS = 5_000;
/** How much longer each delay is than the one before. */
const RETRY_FACTOR = 4;
/** Attempts before a delivery is given up: the first, then eight retries. */
export const MAX_ATTEMPTS = 9;
const JITTER = 0.1;

/**
 * The delay in ms before the next attempt, after `attempts` attempts have
 * failed; null when the delivery is to be marked failed.
 */
export function retryDelayMs(attempts: number, baseMs: number, random: () => number = Math.random): number | null {
  if (attempts >= MAX_ATTEMPTS) return null;
  const delay = baseMs * RETRY_FACTOR ** (attempts - 1);
  return Math.round(delay * (1 + JITTER * random()));
}

/** The whole schedule without jitter: the least time from the first attempt to the last, in ms. */
export function retryWindowMs(baseMs: number): number {
  let total = 0;
  for (let attempts = 1; attempts < MAX_ATTEMPTS; attempts++) total += retryDelayMs(attempts, baseMs, () => 0)!;
  return total;
}
