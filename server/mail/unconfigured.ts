/**
 * Production without `SMTP_URL`: messages are dropped. A development outbox
 * would store live reset tokens on a server's disk and in its logs, so
 * production never falls back to it; operators get one warning instead.
 */
import type { Logger } from "../log.ts";
import type { MailMessage, Mailer } from "./types.ts";

/** Drops every message; warns once, and never logs a message's content. */
export class UnconfiguredMailer implements Mailer {
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
    log.warn("SMTP_URL is not set: verification and password reset mails will not be sent");
  }

  async send(message: MailMessage): Promise<void> {
    // The subject is fixed text; the recipient, body and link stay out of the log.
    this.#log.debug({ subject: message.subject }, "mail dropped: SMTP_URL is not set");
  }
}
