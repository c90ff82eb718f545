/**
 * What the account flows need to send mail, and the hand-off itself. Mail goes
 * out in the background: a slow or failing transport never delays or fails
 * the request, and the database change it follows is already committed.
 */
import type { BackgroundTasks } from "../background.ts";
import type { Config } from "../env.ts";
import type { Mailer, MailMessage } from "./mailer.ts";
import { passwordResetMessage, verificationMessage } from "./templates.ts";

/** The pieces of the services that send account mail. */
export interface MailDeps {
  mailer: Mailer;
  background: BackgroundTasks;
  config: Pick<Config, "appUrl">;
}

/** A user as addressed in mail. */
export interface MailRecipient {
  email: string;
  name: string;
}

function deliver(deps: MailDeps, task: string, message: MailMessage, requestId: string | null): void {
  deps.background.run(task, requestId, () => deps.mailer.send(message));
}

/** Sends the verification link for a freshly issued token, in the background. */
export function sendVerificationMail(deps: MailDeps, to: MailRecipient, token: string, requestId: string | null): void {
  deliver(deps, "verification mail", verificationMessage(deps.config.appUrl, to, token), requestId);
}

/** Sends the password reset link for a freshly issued token (call it from background work). */
export function passwordResetMail(deps: MailDeps, to: MailRecipient, token: string): MailMessage {
  return passwordResetMessage(deps.config.appUrl, to, token);
}
