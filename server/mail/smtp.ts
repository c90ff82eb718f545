/**
 * SMTP delivery through nodemailer, for `SMTP_URL` (`smtp://` or `smtps://`,
 * credentials in the URL). nodemailer is loaded with the first message, so a
 * server that sends none does not hold it in memory.
 */
import type { Transporter } from "nodemailer";
import type { MailMessage, Mailer } from "./types.ts";

/**
 * nodemailer waits up to 2 minutes to connect and 10 minutes on an idle socket
 * by default; shorter limits keep a dead mail server from holding shutdown.
 */
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 } as const;

/** Sends each message over SMTP from `MAIL_FROM`. */
export class SmtpMailer implements Mailer {
  readonly #smtpUrl: string;
  readonly #from: string;
  #transport: Promise<Transporter> | undefined;

  constructor(smtpUrl: string, from: string) {
    this.#smtpUrl = smtpUrl;
    this.#from = from;
  }

  async send(message: MailMessage): Promise<void> {
    this.#transport ??= import("nodemailer").then(({ createTransport }) =>
      createTransport({ url: this.#smtpUrl, ...TIMEOUTS }, { from: this.#from }),
    );
    const transport = await this.#transport;
    await transport.sendMail({ to: message.to, subject: message.subject, text: message.text, html: message.html });
  }

  async close(): Promise<void> {
    (await this.#transport)?.close();
  }
}
