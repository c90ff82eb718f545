/** Email verification by mail (docs/API.md): 24-hour single-use tokens. */
import { appError } from "../errors.ts";
import { mayMail, sendVerificationMail, type MailDeps } from "../mail/account-mail.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { recordEvent } from "../audit/events.ts";
import { claimOneTimeToken, findUsableToken, issueOneTimeToken, lockUser } from "../tokens/one-time-tokens.ts";
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
export async function verifyEmail(deps: AuthDeps, presented: string, meta: RequestMeta): Promise<PublicUser> {
  const now = deps.now();
  const found = await findUsableToken(deps.prisma, presented, "email_verification", now);
  if (!found) throw appError("VERIFICATION_TOKEN_INVALID");
  const user = await deps.prisma.$transaction(async (tx) => {
    if (!(await lockUser(tx, found.userId)) || !(await claimOneTimeToken(tx, found.id, now))) return null;
    const verified = await tx.user.update({
      where: { id: found.userId },
      data: { emailVerified: true },
      select: publicUserSelect,
    });
    await recordEvent(tx, found.userId, "email_verified", meta, now);
    return verified;
  });
  if (!user) throw appError("VERIFICATION_TOKEN_INVALID");
  return user;
}
