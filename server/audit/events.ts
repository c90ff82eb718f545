/** The audit trail behind `auth.activity`. Events never hold a password or token. */
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
] as const;

export type AuthEventType = (typeof AUTH_EVENT_TYPES)[number];

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
