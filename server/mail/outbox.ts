/**
 * The development outbox: instead of sending, each message is kept as one JSON
 * line `{"to","subject","text","link","sentAt"}` in `${DATA_DIR}/outbox.jsonl`,
 * or in memory when the data directory is `:memory:` (tests read it there).
 * Never used in production (see `createMailer`).
 */
import { appendFile, mkdir } from "node:fs/promises";
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "../data-dir.ts";
import { join } from "node:path";
import type { Logger } from "../log.ts";
import type { MailMessage, Mailer } from "./types.ts";

/** One message as the outbox keeps it. */
export interface OutboxEntry {
  to: string;
  subject: string;
  text: string;
  link: string;
  sentAt: string;
}

function entryOf(message: MailMessage, now: Date): OutboxEntry {
  return { to: message.to, subject: message.subject, text: message.text, link: message.link, sentAt: now.toISOString() };
}

/** Appends each message to `<dataDir>/outbox.jsonl` and logs it. */
export class FileOutbox implements Mailer {
  readonly path: string;
  readonly #dir: string;
  readonly #log: Logger;
  readonly #now: () => Date;

  constructor(dataDir: string, log: Logger, now: () => Date) {
    this.#dir = dataDir;
    this.path = join(dataDir, "outbox.jsonl");
    this.#log = log;
    this.#now = now;
  }

  async send(message: MailMessage): Promise<void> {
    const entry = entryOf(message, this.#now());
    await mkdir(this.#dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    // One write per line: appends of a few KB do not interleave. The file
    // holds live links: owner-only (server/data-dir.ts).
    await appendFile(this.path, `${JSON.stringify(entry)}\n`, { encoding: "utf8", mode: PRIVATE_FILE_MODE });
    // Development only: the link is what a developer clicks instead of reading mail.
    this.#log.info({ mail: { to: entry.to, subject: entry.subject, link: entry.link }, outbox: this.path }, "mail written to the development outbox");
  }
}

/** Keeps messages in memory (`DATA_DIR=:memory:`); tests read `messages`. */
export class MemoryOutbox implements Mailer {
  readonly messages: OutboxEntry[] = [];
  readonly #log: Logger;
  readonly #now: () => Date;

  constructor(log: Logger, now: () => Date) {
    this.#log = log;
    this.#now = now;
  }

  async send(message: MailMessage): Promise<void> {
    const entry = entryOf(message, this.#now());
    this.messages.push(entry);
    this.#log.info({ mail: { to: entry.to, subject: entry.subject, link: entry.link } }, "mail kept in the in-memory outbox");
  }
}
