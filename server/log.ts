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

/** Creates the process logger at LOG_LEVEL. */
export function createLogger(config: Pick<Config, "logLevel">): Logger {
  return pino({ level: config.logLevel, base: { pid: process.pid }, redact: { paths: REDACT, censor: "[redacted]" } });
}
