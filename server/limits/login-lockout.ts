/**
 * The lockout on secret checks (passwords now, second-factor codes later):
 * a *reservation*, not a check. Each attempt takes a failure point before the
 * secret is verified and gives it back when the secret was right, so N guesses
 * sent at once (parallel connections, a `?batch=1` batch, several instances
 * sharing Redis) get at most as many verifications as there are points; the
 * rest answer RATE_LIMITED with Retry-After without any verification
 * (server/limits/reservations.ts; OWASP Authentication Cheat Sheet, "Account
 * Lockout"; CWE-367).
 *
 * Lock-out abuse (anyone who knows an email can lock its owner out) is the
 * price of a per-email lock, so the points are kept at two levels
 * (docs/security.md, "Lockout"):
 *
 * - per email *and client IP* bucket: LOGIN_MAX_FAILURES. One attacker's
 *   guesses lock that email for the attacker's address, not for the owner's;
 * - per email, from all addresses: LOGIN_EMAIL_MAX_FAILURES (default four
 *   times LOGIN_MAX_FAILURES), the ceiling for a distributed guesser, at
 *   which the email is locked for everyone.
 *
 * Both levels lock for LOGIN_LOCKOUT from the failure that reaches them. A
 * successful check forgets the failures of its own address and gives its
 * point back to the email's ceiling; a successful password reset (proof of
 * the mailbox) clears the email's ceiling and the resetting address's lock.
 *
 * Unknown emails are counted and locked exactly like real ones, so a lockout
 * never tells whether an account exists. Keys are SHA-256 digests of the
 * normalised email (and address), so Redis never holds addresses or emails.
 */
import { createHash } from "node:crypto";
import { appError } from "../errors.ts";
import { clientKey } from "./client-key.ts";
import { Refused, type Reservations, type Ticket } from "./reservations.ts";

function digest(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\n"), "utf8").digest("base64url");
}

const emailKey = (email: string) => digest(email);
/** Retries of a refused take after a check settled during it (see `LoginLockout.guard`). */
const MAX_LATE_RETRIES = 3;
const emailClientKey = (email: string, ip: string | null) => digest(email, clientKey(ip));

/** How one secret check is counted (see `LoginLockout.guard`). */
export interface GuardOptions {
  /** The caller's address; unset or null shares one bucket per email. */
  ip?: string | null;
  /** Whether a right answer forgets this address's failures (default true). */
  forgetOnSuccess?: boolean;
}

export interface LoginLockoutOptions {
  /** LOGIN_MAX_FAILURES: failures per email and client address. */
  maxFailures: number;
  /** LOGIN_EMAIL_MAX_FAILURES: failures per email from all addresses. */
  emailMaxFailures: number;
  /** LOGIN_LOCKOUT, in seconds. */
  lockoutSeconds: number;
}

export class LoginLockout {
  readonly #perClient: Reservations;
  readonly #perEmail: Reservations;
  readonly #options: LoginLockoutOptions;
  /** Checks running in this process, by email key: what a refused caller may wait for. */
  readonly #inFlight = new Map<string, Set<Promise<void>>>();
  /** Checks settled in this process so far: tells a refused caller that a point may have come free meanwhile. */
  #settles = 0;

  /** `perClient` and `perEmail` hold LOGIN_MAX_FAILURES and LOGIN_EMAIL_MAX_FAILURES points per LOGIN_LOCKOUT. */
  constructor(perClient: Reservations, perEmail: Reservations, options: LoginLockoutOptions) {
    this.#perClient = perClient;
    this.#perEmail = perEmail;
    this.#options = options;
  }

  /**
   * Runs one secret check under the email's lockout; the only way to check a
   * secret. Throws RATE_LIMITED (with Retry-After) without running `check`
   * when no failure point is left for the email from `ip`; otherwise answers
   * what `check` answered: false keeps the point (a failure), true gives it
   * back and forgets this address's failures. If `check` throws, the point is
   * given back (nothing was verified).
   *
   * `ip` is the caller's address (unset or null: such callers, e.g. the
   * second-factor step, share one bucket per email). `forgetOnSuccess: false`
   * keeps this address's failures after a right answer (the point is still
   * given back): a right password of a user with a second factor is only half
   * a sign-in, and must not wipe the failures counted so far.
   */
  async guard(email: string, check: () => Promise<boolean>, options: GuardOptions = {}): Promise<boolean> {
    const emailId = emailKey(email);
    for (let lateRetries = 0; ; ) {
      const settlesBefore = this.#settles;
      const outcome = await this.#attempt(email, emailId, check, options.ip ?? null, options.forgetOnSuccess ?? true);
      if (!(outcome instanceof Refused)) return outcome;
      // Every point is held by a check still running in this process (say,
      // parallel logins with the right password): wait for one to settle and
      // try again, since a right one gives its point back. Refuse only once
      // nothing here is pending, so the points are spent by settled failures
      // or by other instances.
      const pending = this.#inFlight.get(emailId);
      if (pending !== undefined) {
        await Promise.race(pending);
        continue;
      }
      // The last running check may have settled while this take was being
      // refused (nothing is pending any more, yet its point may be free):
      // try again, a few times at most.
      if (this.#settles !== settlesBefore && lateRetries++ < MAX_LATE_RETRIES) continue;
      throw appError("RATE_LIMITED", { retryAfter: outcome.retryAfter });
    }
  }

  /** One reservation and check; `Refused` when no point was left. */
  async #attempt(
    email: string,
    emailId: string,
    check: () => Promise<boolean>,
    ip: string | null,
    forgetOnSuccess: boolean,
  ): Promise<boolean | Refused> {
    const clientTicket = await this.#perClient.take(emailClientKey(email, ip));
    if (clientTicket instanceof Refused) return clientTicket;
    const emailTicket = await this.#perEmail.take(emailId);
    if (emailTicket instanceof Refused) {
      await clientTicket.giveBack();
      return emailTicket;
    }
    // Waiters wake once this check's points are settled (given back, cleared or locked).
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    this.#track(emailId, settled);
    try {
      let right: boolean;
      try {
        right = await check();
      } catch (error) {
        await Promise.all([clientTicket.giveBack(), emailTicket.giveBack()]);
        throw error;
      }
      if (right) {
        const client = forgetOnSuccess ? this.#perClient.clear(emailClientKey(email, ip)) : clientTicket.giveBack();
        await Promise.all([client, emailTicket.giveBack()]);
        return true;
      }
      // The failure that spends the last point locks for the full LOGIN_LOCKOUT
      // from now, however early in the window the first failure was.
      await Promise.all([
        lockIfLast(clientTicket, this.#options.maxFailures, this.#options.lockoutSeconds),
        lockIfLast(emailTicket, this.#options.emailMaxFailures, this.#options.lockoutSeconds),
      ]);
      return false;
    } finally {
      this.#untrack(emailId, settled);
      this.#settles++;
      settle();
    }
  }

  #track(emailId: string, settled: Promise<void>): void {
    const set = this.#inFlight.get(emailId) ?? new Set();
    set.add(settled);
    this.#inFlight.set(emailId, set);
  }

  #untrack(emailId: string, settled: Promise<void>): void {
    const set = this.#inFlight.get(emailId);
    set?.delete(settled);
    if (set?.size === 0) this.#inFlight.delete(emailId);
  }

  /** Clears the email's lock after a successful password reset from `ip`. */
  async clear(email: string, ip: string | null): Promise<void> {
    await Promise.all([this.#perEmail.clear(emailKey(email)), this.#perClient.clear(emailClientKey(email, ip))]);
  }
}

async function lockIfLast(ticket: Ticket, points: number, seconds: number): Promise<void> {
  if (ticket.consumed >= points) await ticket.lock(seconds);
}
