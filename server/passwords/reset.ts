/**
 * Password reset by mail (docs/API.md), following the OWASP
 * Forgot Password Cheat Sheet: the same answer, in comparable time, for known
 * and unknown emails; a random single-use token that lives 1 hour and is
 * stored only as a hash; every session revoked once the password is reset.
 */
import { appError } from "../errors.ts";
import type { Limits } from "../limits/limits.ts";
import { mayMail, passwordResetMail, sendMail, type MailDeps } from "../mail/account-mail.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { recordEvent } from "../audit/events.ts";
import { claimOneTimeToken, findUsableToken, issueOneTimeToken, lockUser, retireOneTimeTokens } from "../tokens/one-time-tokens.ts";
import { assertStrongPassword } from "./policy.ts";

/**
 * Starts a reset for the account of `email`, if there is one. The request does
 * one indexed lookup either way; for a known email the token write, the event
 * and the mail run in the background, so neither the answer nor its timing
 * tells whether the account exists, and the mail transport is never waited on.
 * Returns the account's id (for the security log only), or null.
 */
export async function requestPasswordReset(
  deps: AuthDeps & MailDeps,
  email: string,
  meta: RequestMeta,
  requestId: string | null,
): Promise<string | null> {
  const user = await deps.prisma.user.findUnique({ where: { email }, select: { id: true, email: true, name: true } });
  if (!user) return null;
  deps.background.run("password reset mail", requestId, async () => {
    const origin = { ip: meta.ip, requestId };
    // Past the throttle nothing happens, not even a new token: the earlier link stays the live one.
    if (!(await mayMail(deps, "password_reset", user, origin))) return;
    const now = deps.now();
    const token = await issueOneTimeToken(deps.prisma, user.id, "password_reset", now, (tx) =>
      recordEvent(tx, user.id, "password_reset_requested", meta, now),
    );
    // The account was deleted in the meantime: nothing to send.
    if (token === null) return;
    await sendMail(deps, "password_reset", user, passwordResetMail(deps, user, token), origin);
  });
  return user.id;
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
