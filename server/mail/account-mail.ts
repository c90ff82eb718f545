/**
 * What the account flows need to send mail, and the hand-off itself. Mail goes
 * out in the background: a slow or failing transport never delays or fails
 * the request, and the database change it follows is already committed.
 * Every account mail first asks the throttle (server/limits/mail-throttle.ts),
 * and each decision, sent or held back, writes its security line.
 */
import { logSecurityEvent, type MailKind, type SecurityLogDeps } from "../audit/security-log.ts";
import type { BackgroundTasks } from "../background.ts";
import type { Config } from "../env.ts";
import type { Limits } from "../limits/limits.ts";
import type { Logger } from "../log.ts";
import type { MailRecipient, Mailer } from "./types.ts";
import { accountMessage } from "./templates.ts";

/** The pieces of the services that send account mail. */
export interface MailDeps {
  mailer: Mailer;
  background: BackgroundTasks;
  config: Pick<Config, "appUrl">;
  limits: Pick<Limits, "mail">;
  log: Logger;
  observability: SecurityLogDeps["observability"];
}

/** Where the mail was asked for, for the security log. */
export interface MailOrigin {
  ip: string | null;
  requestId: string | null;
}

/**
 * Whether a mail of `kind` to this user may go out now (the throttle counts
 * it); logs the decision when it may not. Callers that are held back answer
 * exactly as if they had sent it.
 */
export async function mayMail(deps: MailDeps, kind: MailKind, to: MailRecipient, origin: MailOrigin): Promise<boolean> {
  const allowed = await deps.limits.mail.allow(kind, to.email, to.id);
  if (!allowed) {
    logSecurityEvent(deps, { event: `mail.${kind}`, outcome: "failure", appCode: "RATE_LIMITED", limit: "recipient", userId: to.id, ...origin });
  }
  return allowed;
}

/** Hands the mail of `kind` carrying `secret` (a token or the email code) to the transport and logs that it went. */
export async function sendMail(deps: MailDeps, kind: MailKind, to: MailRecipient, secret: string, origin: MailOrigin): Promise<void> {
  await deps.mailer.send(accountMessage(kind, deps.config.appUrl, to, secret));
  logSecurityEvent(deps, { event: `mail.${kind}`, outcome: "success", userId: to.id, ...origin });
}

/** Sends the verification link for a freshly issued token, in the background, if the throttle allows it. */
export function sendVerificationMail(deps: MailDeps, to: MailRecipient, token: string, origin: MailOrigin, throttled = true): void {
  deps.background.run("verification mail", origin.requestId, async () => {
    if (throttled && !(await mayMail(deps, "verification", to, origin))) return;
    await sendMail(deps, "verification", to, token, origin);
  });
}
