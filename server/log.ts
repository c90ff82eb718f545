/** The pino logger: JSON lines on stdout, with credentials redacted wherever they appear. */
import { pino, type Logger } from "pino";
import type { Config } from "./env.ts";

export type { Logger };

/** Paths that could carry a secret if a log call ever included them. */
const REDACT = [
  "req.headers.authorization",
  "req.headers.cookie",
  "*.password",
  "*.newPassword",
  "*.currentPassword",
  "*.token",
  "*.refreshToken",
  "*.accessToken",
  "*.jwtSecret",
];

/**
 * Creates the process logger at LOG_LEVEL. Lines are written to stdout
 * asynchronously: those logged while a write is in progress go out together
 * in the next one, instead of one blocking write per line. pino flushes what
 * is pending synchronously when the process exits.
 */
export function createLogger(config: Pick<Config, "logLevel">): Logger {
  return pino(
    { level: config.logLevel, base: { pid: process.pid }, redact: { paths: REDACT, censor: "[redacted]" } },
    pino.destination({ dest: 1, sync: false }),
  );
}

/**
 * A child for the one line logged per request. Its fields are fixed (request
 * id, method, path without the query string, status, duration) and never
 * carry a secret, so it skips the redaction pass, which costs more than the
 * rest of the line.
 */
export function requestLogger(log: Logger): Logger {
  return log.child({}, { redact: [] });
}
