/** Email verification by mail (docs/API.md): 24-hour single-use tokens. */
import { appError } from "../errors.ts";
import { mayMail, sendVerificationMail, type MailDeps } from "../mail/account-mail.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { recordEvent } from "../audit/events.ts";
import { issueOneTimeToken, redeemOneTimeToken } from "../tokens/one-time-tokens.ts";
import { publicUserSelect, type PublicUser } from "./user-view.ts";

/**
 * Sends a new verification link, retiring earlier ones. The token is stored
 * before the answer; the mail goes out in the background. An address that is
 * already verified gets no mail and no token, and the same `{ success: true }`:
 * there is nothing left to confirm. Past the mail throttle the answer is the
 * same too, and the earlier link stays the live one (no token is issued).
 */
export async function requestEmailVerification(
  deps: AuthDeps & MailDeps,
  user: PublicUser,
  meta: RequestMeta,
  requestId: string | null,
): Promise<void> {
  if (user.emailVerified) return;
  const origin = { ip: meta.ip, requestId };
  if (!(await mayMail(deps, "verification", user, origin))) return;
  const token = await issueOneTimeToken(deps.prisma, user.id, "email_verification", deps.now());
  if (token === null) throw appError("SESSION_REVOKED");
  // Counted just above: the throttle is not asked twice.
  sendVerificationMail(deps, user, token, origin, false);
}

/** Marks the token's user as verified and spends the token; VERIFICATION_TOKEN_INVALID otherwise. */
export function verifyEmail(deps: AuthDeps, presented: string, meta: RequestMeta): Promise<PublicUser> {
  return redeemOneTimeToken(deps, presented, "email_verification", "VERIFICATION_TOKEN_INVALID", async (tx, userId, now) => {
    const verified = await tx.user.update({ where: { id: userId }, data: { emailVerified: true }, select: publicUserSelect });
    await recordEvent(tx, userId, "email_verified", meta, now);
    return verified;
  });
}
