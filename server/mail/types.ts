/** What every mail module speaks: a recipient, a message, and a transport that sends it. */
import type { PublicUser } from "../identity/user-view.ts";

/** A user as addressed in mail. */
export type MailRecipient = Pick<PublicUser, "id" | "email" | "name">;

/** One message: plain-text and HTML bodies, and the single link it carries. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  link: string;
}

/** A mail transport. `send` resolves once the message has been handed over. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  /** Releases connections, if the transport holds any. */
  close?(): Promise<void> | void;
}
