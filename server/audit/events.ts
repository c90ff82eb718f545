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
  // Admin actions (server/admin/): the entry names the admin as its actor.
  "roles_changed",
  "account_disabled",
  "account_enabled",
  "sessions_revoked",
  "impersonation_started",
  // One per call made in an impersonation session; `detail` names the procedure.
  "impersonated_call",
  // Webhook endpoints (server/webhooks/): no target user; `detail` names the endpoint or delivery.
  "webhook_created",
  "webhook_deleted",
  "webhook_redelivered",
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

/** What an admin action adds to its entry: who acted, why, and on what. */
export interface ActorNote {
  /** The admin, or null for the command line (`npm run admin`). */
  actorId: string | null;
  reason?: string | null;
  detail?: string | null;
}

/** The row to create for an event (for nested writes and transactions). */
export function eventData(type: AuthEventType, meta: RequestMeta, at: Date, actor?: ActorNote) {
  const base = { type, at, ip: meta.ip, userAgent: meta.userAgent };
  return actor ? { ...base, actorId: actor.actorId, reason: actor.reason ?? null, detail: actor.detail ?? null } : base;
}

/** Records one event for a user. */
export async function recordEvent(
  prisma: Pick<PrismaClient, "authEvent">,
  userId: string,
  type: AuthEventType,
  meta: RequestMeta,
  at: Date,
  actor?: ActorNote,
): Promise<void> {
  await prisma.authEvent.create({ data: { userId, ...eventData(type, meta, at, actor) } });
}
