/**
 * Impersonation: an admin acting as a user, in a session of that user flagged
 * with the admin (`sessions.impersonator_id`). What such a session may not do,
 * and the record of every call made in it.
 */
import { recordEvent } from "../audit/events.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";

/**
 * Procedures an impersonation session is refused (FORBIDDEN), besides every
 * admin procedure (it holds no permission): whatever would change how the user
 * signs in, or end the account. An admin sees what the user sees; they do not
 * leave a passkey, a TOTP secret or a new password behind.
 */
const REFUSED_PREFIXES = [
  "admin.",
  "auth.changePassword",
  "auth.deleteAccount",
  "auth.setPassword",
  "auth.linkOAuth",
  "auth.unlinkIdentity",
  "mfa.",
  "passkey.",
];

/** Whether an impersonation session is refused the procedure at `path`. */
export function refusedWhileImpersonating(path: string): boolean {
  return REFUSED_PREFIXES.some((prefix) => path.startsWith(prefix));
}

/** Writes the audit entry of one call made in an impersonation session, before the call runs. */
export async function recordImpersonatedCall(
  deps: Pick<AuthDeps, "prisma" | "now">,
  call: { actorId: string; userId: string; path: string; meta: RequestMeta },
): Promise<void> {
  await recordEvent(deps.prisma, call.userId, "impersonated_call", call.meta, deps.now(), { actorId: call.actorId, detail: call.path });
}
