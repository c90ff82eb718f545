/** SMTP delivery through nodemailer, for `SMTP_URL` (`smtp://` or `smtps://`, credentials in the URL). */
import { createTransport, type Transporter } from "nodemailer";
import type { MailMessage, Mailer } from "./mailer.ts";

/**
 * nodemailer waits up to 2 minutes to connect and 10 minutes on an idle socket
 * by default; shorter limits keep a dead mail server from holding shutdown.
 */
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 } as const;

/** Sends each message over SMTP from `MAIL_FROM`. */
export class SmtpMailer implements Mailer {
  readonly #transport: Transporter;

  constructor(smtpUrl: string, from: string) {
    this.#transport = createTransport({ url: smtpUrl, ...TIMEOUTS }, { from });
  }

  async send(message: MailMessage): Promise<void> {
    await this.#transport.sendMail({ to: message.to, subject: message.subject, text: message.text, html: message.html });
  }

  close(): void {
    this.#transport.close();
  }
}
