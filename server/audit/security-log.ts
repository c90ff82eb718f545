/**
 * The security log: one structured line per auth decision (OWASP Logging
 * Cheat Sheet, "Which events to log"; ASVS 5.0 V16.3), all written by
 * `logSecurityEvent`, the one function every decision calls. Counters and
 * alerts hang on that same function, so logs and metrics count the same things.
 *
 * Each line has a stable `event` (the table in docs/security.md), an
 * `outcome`, the `userId` when the decision concerns a known account (else
 * `emailHash`, a pseudonym of the address that was tried), the client `ip`,
 * the `requestId`, and the `appCode` of a refusal. Never a password, token or
 * plain email address.
 */
import { createHash } from "node:crypto";
import type { AppCode } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../observability/metrics.ts";

/** Where a decision goes: the log line, and the counters of `/metrics` (from the same call). */
export interface SecurityLogDeps {
  log: Logger;
  observability: { metrics: Pick<Metrics, "countDecision"> };
}

/** Kinds of account mail (server/mail/throttle.ts); later magic links and email codes join them. */
export type MailKind = "verification" | "password_reset" | "magic_link" | "email_code";

/**
 * Stable event names:
 * - the path of every tRPC mutation (`auth.login`, `auth.changePassword`, ...),
 *   written by the procedure middleware once per call, whatever its result;
 * - `access.denied`: a bearer token refused on a query (`auth.me`, ...);
 * - `mail.<kind>`: an account mail handed to the transport, or held back by the throttle;
 */
export type SecurityEventName = `${"auth" | "user" | "mfa" | "passkey" | "admin"}.${string}` | "access.denied" | `mail.${MailKind}`;

type SecurityOutcome = "success" | "failure";

interface SecurityEvent {
  event: SecurityEventName;
  outcome: SecurityOutcome;
  /** The refusal's appCode (failures only). */
  appCode?: AppCode | null;
  /** The account concerned, when known. */
  userId?: string | null;
  /** An email address that was tried; logged only as `emailHash`. */
  email?: string | null;
  ip: string | null;
  requestId: string | null;
  /** Which limit refused a RATE_LIMITED call: the per-IP one, or one of the account's (lockout, mail throttle). */
  limit?: "ip" | "account" | "recipient";
}

/**
 * A stable pseudonym of an email address: the first 128 bits of its SHA-256,
 * the same digest the lockout keys use. It lets an operator follow attempts
 * on one address, and find them again from the address, without writing the
 * address itself into log storage.
 */
export function emailHash(email: string): string {
  return createHash("sha256").update(email.trim().toLowerCase(), "utf8").digest("base64url").slice(0, 22);
}

/** Writes the line of one auth decision: `info` when it succeeded, `warn` when it was refused. */
export function logSecurityEvent(deps: SecurityLogDeps, e: SecurityEvent): void {
  const { log } = deps;
  const line = {
    security: true,
    event: e.event,
    outcome: e.outcome,
    userId: e.userId ?? null,
    emailHash: e.email ? emailHash(e.email) : null,
    ip: e.ip,
    requestId: e.requestId,
    appCode: e.appCode ?? null,
    ...(e.limit ? { limit: e.limit } : {}),
  };
  if (e.outcome === "success") log.info(line, "auth decision");
  else log.warn(line, "auth decision");
  // The one place decisions are counted, so logs and metrics cannot disagree.
  deps.observability.metrics.countDecision({ event: line.event, outcome: line.outcome, appCode: line.appCode, ...(e.limit ? { limit: e.limit } : {}) });
}
