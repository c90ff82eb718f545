/**
 * Outgoing mail (docs/API.md). One interface, and the transport is
 * chosen from the configuration:
 * - `SMTP_URL` set: SMTP through nodemailer;
 * - otherwise, outside production: the development outbox (a JSON-lines file in
 *   `DATA_DIR`, or memory when `DATA_DIR` is `:memory:`);
 * - production without `SMTP_URL`: nothing is sent, and no token is logged or stored.
 */
import type { Config } from "../env.ts";
import type { Logger } from "../log.ts";
import { FileOutbox, MemoryOutbox } from "./outbox.ts";
import { SmtpMailer } from "./smtp.ts";
import type { Mailer } from "./types.ts";
import { UnconfiguredMailer } from "./unconfigured.ts";

/** The transport the configuration asks for. */
export function createMailer(
  config: Pick<Config, "smtpUrl" | "mailFrom" | "production" | "dataDir">,
  log: Logger,
  now: () => Date = () => new Date(),
): Mailer {
  if (config.smtpUrl !== undefined) return new SmtpMailer(config.smtpUrl, config.mailFrom);
  if (config.production) return new UnconfiguredMailer(log);
  if (config.dataDir === ":memory:") return new MemoryOutbox(log, now);
  return new FileOutbox(config.dataDir, log, now);
}
