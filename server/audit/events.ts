/** The audit trail behind `auth.activity`. Events never hold a password or token. */
import { createHash } from "node:crypto";
import type { PrismaClient } from "../db/database.ts";
import type { RequestMeta } from "../deps.ts";

export const AUTH_EVENT_TYPES = [
  "register",
  "login",
  "login_failed",
  "refresh",
  "refresh_reused",
  "logout",
  "password_changed",
  "password_reset_requested",
  "password_reset",
  "email_verified",
  "session_revoked",
  "mfa_enabled",
  "mfa_disabled",
  "mfa_failed",
  "recovery_code_used",
  "recovery_codes_regenerated",
  "passkey_added",
  "passkey_removed",
  "passkey_login",
  "password_set",
  "identity_linked",
  "identity_unlinked",
  // Written once, as the account goes; only the pseudonymous audit record sees it.
  "account_deleted",
] as const;

export type AuthEventType = (typeof AUTH_EVENT_TYPES)[number];

/**
 * The pseudonym a deleted account's events keep (`auth_events.subject`): the
 * first 128 bits of a SHA-256 of its id. The rows no longer point at anyone,
 * but whoever holds the id (a support ticket, a log line) can still find them.
 */
export function accountPseudonym(userId: string): string {
  return createHash("sha256").update(`gatehouse-account:${userId}`, "utf8").digest("base64url").slice(0, 22);
}

/** The row to create for an event (for nested writes and transactions). */
export function eventData(type: AuthEventType, meta: RequestMeta, at: Date) {
  return { type, at, ip: meta.ip, userAgent: meta.userAgent };
}

/** Records one event for a user. */
export async function recordEvent(
  prisma: Pick<PrismaClient, "authEvent">,
  userId: string,
  type: AuthEventType,
  meta: RequestMeta,
  at: Date,
): Promise<void> {
  await prisma.authEvent.create({ data: { userId, ...eventData(type, meta, at) } });
}
