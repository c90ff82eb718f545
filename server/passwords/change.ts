/** `auth.changePassword` (docs/API.md). */
import { appError } from "../errors.ts";
import { verifyCurrentPassword, type PasswordCheckDeps } from "./current-password.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { recordEvent } from "../audit/events.ts";
import { retireOneTimeTokens } from "../tokens/one-time-tokens.ts";
import { assertStrongPassword } from "./policy.ts";
import { authResult, newSessionData, type AuthResult } from "../sessions/sessions.ts";
import type { PublicUser } from "../identity/user-view.ts";

/**
 * Replaces the password after checking the current one, opens a new session
 * and revokes every other session of the user, the calling one included: a
 * password change is how a user throws out someone who knew the old password
 * (OWASP Session Management Cheat Sheet, "Renew the Session ID After Any
 * Privilege Level Change").
 *
 * Every outstanding reset and verification link dies with the old password.
 *
 * The new hash, the new session, the revocations, the retired tokens and the event are written in
 * one transaction (rather than `openSession` + `logoutEverywhere`, which
 * commit separately), so a failure half-way cannot leave the new password in
 * place with the old sessions alive.
 */
export async function changePassword(
  deps: AuthDeps & PasswordCheckDeps,
  user: PublicUser,
  input: { currentPassword: string; newPassword: string },
  meta: RequestMeta,
): Promise<AuthResult> {
  const verifiedHash = await verifyCurrentPassword(deps, user, input.currentPassword, meta.ip);
  assertStrongPassword(input.newPassword, user.email);
  const passwordHash = await deps.passwords.hash(input.newPassword);

  const now = deps.now();
  const { refreshToken, data } = newSessionData(deps, meta, now);
  const sessionId = await deps.prisma.$transaction(async (tx) => {
    // Updating the user's row first also takes its lock first, the order
    // every transaction touching one-time tokens follows (lockUser).
    // Conditional on the hash we verified: of two changes racing, the second
    // was authorised by a password that is no longer current.
    const changed = await tx.user.updateMany({
      where: { id: user.id, passwordHash: verifiedHash },
      data: { passwordHash },
    });
    if (changed.count === 0) throw appError("CURRENT_PASSWORD_INVALID");
    const session = await tx.session.create({ data: { ...data, userId: user.id }, select: { id: true } });
    await tx.session.updateMany({
      where: { userId: user.id, revokedAt: null, id: { not: session.id } },
      data: { revokedAt: now },
    });
    await retireOneTimeTokens(tx, user.id);
    await recordEvent(tx, user.id, "password_changed", meta, now);
    return session.id;
  });
  return authResult(deps, user, sessionId, refreshToken, now);
}
