/**
 * The one way a public "mail me a token" request runs (password reset, magic
 * link, email code), following the OWASP Forgot Password Cheat Sheet: the
 * request does one indexed lookup and answers the same whether or not the
 * account exists; for a known account the throttle, the token write (with its
 * event) and the mail run in the background, so neither the answer nor its
 * timing tells the two apart, and the mail transport is never waited on.
 */
import type { AuthEventType } from "../audit/events.ts";
import { recordEvent } from "../audit/events.ts";
import type { MailKind } from "../audit/security-log.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { mayMail, sendMail, type MailDeps } from "../mail/account-mail.ts";
import { issueOneTimeToken, type TokenPurpose } from "./one-time-tokens.ts";
import type { IssuedToken } from "./opaque-token.ts";

/** What one kind of mailed token is made of. */
export interface TokenMail {
  kind: MailKind;
  purpose: TokenPurpose;
  /** Recorded with the token, in its transaction. */
  event?: AuthEventType;
  /** How the token is made (default: an opaque `id.secret`). */
  issue?: () => IssuedToken;
}

/**
 * Sends a token of `mail`'s kind to the account of `email`, if there is one,
 * retiring the earlier one of that kind. Past the mail throttle nothing
 * happens, not even a new token: the earlier one stays the live one. Returns
 * the account's id (for the security log only), or null.
 */
export async function requestTokenMail(
  deps: AuthDeps & MailDeps,
  email: string,
  meta: RequestMeta,
  requestId: string | null,
  mail: TokenMail,
): Promise<string | null> {
  const user = await deps.prisma.user.findUnique({ where: { email }, select: { id: true, email: true, name: true } });
  if (!user) return null;
  deps.background.run(`${mail.kind.replaceAll("_", " ")} mail`, requestId, async () => {
    const origin = { ip: meta.ip, requestId };
    if (!(await mayMail(deps, mail.kind, user, origin))) return;
    const now = deps.now();
    const { event } = mail;
    const token = await issueOneTimeToken(
      deps.prisma,
      user.id,
      mail.purpose,
      now,
      event ? (tx) => recordEvent(tx, user.id, event, meta, now) : undefined,
      mail.issue?.(),
    );
    // The account was deleted in the meantime: nothing to send.
    if (token === null) return;
    await sendMail(deps, mail.kind, user, token, origin);
  });
  return user.id;
}
