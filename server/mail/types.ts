/** What every mail module speaks: a message, and a transport that sends it. */

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
