/**
 * Passwordless sign-in (docs/API.md): magic links and six-digit email codes.
 * Both are one-time tokens sent through the account-mail machinery, and both
 * end like a password sign-in (`completeSignIn`), so a second factor still
 * applies.
 *
 * They sign in to existing accounts only: an unknown email gets the same
 * `{ success: true }` and no mail (see docs/guide.md, "Passwordless sign-in").
 * Using either proves the mailbox, so it marks the email verified.
 */
import { recordEvent } from "../audit/events.ts";
import type { BackgroundTasks } from "../background.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { appError } from "../errors.ts";
import { completeSignIn, type LoginResult } from "../identity/accounts.ts";
import { publicUserSelect, type PublicUser } from "../identity/user-view.ts";
import type { Limits } from "../limits/limits.ts";
import type { MailDeps } from "../mail/account-mail.ts";
import { requestTokenMail } from "../tokens/mailed-token.ts";
import { lockUser, redeemOneTimeToken, type TransactionClient } from "../tokens/one-time-tokens.ts";
import { acceptEmailCode, newEmailCode } from "./email-code.ts";

/** Compared against when the email has no account, so both paths run the same query. */
const NO_USER = "00000000-0000-0000-0000-000000000000";

/** `auth.requestMagicLink`: mails `${APP_URL}/magic-link?token=...` (15 minutes, single use). */
export function requestMagicLink(deps: AuthDeps & MailDeps, email: string, meta: RequestMeta, requestId: string | null) {
  return requestTokenMail(deps, email, meta, requestId, {
    kind: "magic_link",
    purpose: "magic_link",
  });
}

/** `auth.requestEmailCode`: mails a six-digit code (10 minutes, 5 attempts). */
export function requestEmailCode(deps: AuthDeps & MailDeps, email: string, meta: RequestMeta, requestId: string | null) {
  return requestTokenMail(deps, email, meta, requestId, {
    kind: "email_code",
    purpose: "email_code",
    issue: newEmailCode,
  });
}

/** Marks the user's email verified (once), in the transaction that spent the mailed token. */
async function proveMailbox(tx: TransactionClient, userId: string, meta: RequestMeta, now: Date): Promise<PublicUser> {
  const user = await tx.user.findUniqueOrThrow({ where: { id: userId }, select: publicUserSelect });
  if (user.emailVerified) return user;
  await recordEvent(tx, userId, "email_verified", meta, now);
  return tx.user.update({ where: { id: userId }, data: { emailVerified: true }, select: publicUserSelect });
}

/** `auth.consumeMagicLink`: spends the link and signs in; MAGIC_LINK_INVALID for anything but a live link. */
export async function consumeMagicLink(deps: AuthDeps, token: string, meta: RequestMeta): Promise<LoginResult> {
  const user = await redeemOneTimeToken(deps, token, "magic_link", "MAGIC_LINK_INVALID", (tx, userId, now) =>
    proveMailbox(tx, userId, meta, now),
  );
  return completeSignIn(deps, user, meta);
}

/**
 * `auth.verifyEmailCode`: checks the code under the email's lockout, like a
 * password (a reservation: parallel guesses never get more comparisons than
 * LOGIN_MAX_FAILURES), and within the code's own 5 attempts. Unknown email,
 * no live code, spent attempts and a wrong code all answer EMAIL_CODE_INVALID.
 */
export async function verifyEmailCode(
  deps: AuthDeps & { limits: Pick<Limits, "loginLockout">; background: BackgroundTasks },
  input: { email: string; code: string },
  meta: RequestMeta,
): Promise<LoginResult> {
  const user = await deps.prisma.user.findUnique({ where: { email: input.email }, select: { id: true, twoFactorEnabled: true } });
  const right = await deps.limits.loginLockout.guard(
    input.email,
    () => acceptEmailCode(deps.prisma, user?.id ?? NO_USER, input.code, deps.now()),
    // With a second factor the sign-in is complete only after that code.
    { ip: meta.ip, forgetOnSuccess: !user?.twoFactorEnabled },
  );
  if (!user) throw appError("EMAIL_CODE_INVALID");
  if (!right) {
    const at = deps.now();
    deps.background.run("login_failed event", null, () => recordEvent(deps.prisma, user.id, "login_failed", meta, at));
    throw appError("EMAIL_CODE_INVALID", { userId: user.id });
  }
  const now = deps.now();
  const verified = await deps.prisma.$transaction(async (tx) => {
    if (!(await lockUser(tx, user.id))) return null;
    return proveMailbox(tx, user.id, meta, now);
  });
  if (!verified) throw appError("EMAIL_CODE_INVALID");
  return completeSignIn(deps, verified, meta);
}
