/**
 * Password reset by mail (docs/API.md), following the OWASP
 * Forgot Password Cheat Sheet: the same answer, in comparable time, for known
 * and unknown emails; a random single-use token that lives 1 hour and is
 * stored only as a hash; every session revoked once the password is reset.
 */
import { appError } from "../errors.ts";
import type { Limits } from "../limits/limits.ts";
import type { MailDeps } from "../mail/account-mail.ts";
import { requestTokenMail } from "../tokens/mailed-token.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { recordEvent } from "../audit/events.ts";
import { claimOneTimeToken, findUsableToken, lockUser, retireOneTimeTokens } from "../tokens/one-time-tokens.ts";
import { assertStrongPassword } from "./policy.ts";

/**
 * Starts a reset for the account of `email`, if there is one (the same answer
 * and the same work either way: server/tokens/mailed-token.ts). An account
 * without a password (OAuth, magic link) gets its first one this way too.
 * Returns the account's id (for the security log only), or null.
 */
export function requestPasswordReset(
  deps: AuthDeps & MailDeps,
  email: string,
  meta: RequestMeta,
  requestId: string | null,
): Promise<string | null> {
  return requestTokenMail(deps, email, meta, requestId, {
    kind: "password_reset",
    purpose: "password_reset",
    event: "password_reset_requested",
  });
}

/**
 * Sets a new password with a reset token. The token is checked, the new
 * password is checked against the policy and hashed, and then, in one
 * transaction, the token is claimed, the hash replaced and every session of
 * the user revoked. A weak password leaves the token usable for another try.
 * Returns the account's id.
 *
 * A completed reset proves the mailbox, so it also clears the email's
 * lockout: otherwise someone locking the email out would keep the owner out
 * of the new password too (docs/security.md, "Lockout").
 */
export async function resetPassword(
  deps: AuthDeps & { limits: Pick<Limits, "loginLockout"> },
  input: { token: string; newPassword: string },
  meta: RequestMeta,
): Promise<string> {
  const found = await findUsableToken(deps.prisma, input.token, "password_reset", deps.now());
  if (!found) throw appError("RESET_TOKEN_INVALID");
  const user = await deps.prisma.user.findUnique({ where: { id: found.userId }, select: { email: true } });
  if (!user) throw appError("RESET_TOKEN_INVALID");
  assertStrongPassword(input.newPassword, user.email);
  const passwordHash = await deps.passwords.hash(input.newPassword);

  const now = deps.now();
  const reset = await deps.prisma.$transaction(async (tx) => {
    if (!(await lockUser(tx, found.userId)) || !(await claimOneTimeToken(tx, found.id, now))) return false;
    await tx.user.update({ where: { id: found.userId }, data: { passwordHash }, select: { id: true } });
    await tx.session.updateMany({ where: { userId: found.userId, revokedAt: null }, data: { revokedAt: now } });
    // Any other reset or verification link mailed before this one dies too.
    await retireOneTimeTokens(tx, found.userId);
    await recordEvent(tx, found.userId, "password_reset", meta, now);
    return true;
  });
  if (!reset) throw appError("RESET_TOKEN_INVALID");
  await deps.limits.loginLockout.clear(user.email, meta.ip);
  return found.userId;
}
