/**
 * The JWT signing secret. Production must set JWT_SECRET (env.ts refuses to
 * start otherwise); development generates one once and keeps it in DATA_DIR so
 * that tokens survive a restart.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Config } from "../env.ts";

const SECRET_FILE = "jwt-secret";

/** Returns JWT_SECRET, or the development secret from (or newly written to) DATA_DIR. */
export function resolveJwtSecret(config: Config, log: Logger): string {
  if (config.jwtSecret !== undefined) return config.jwtSecret;
  if (config.dataDir === ":memory:") {
    log.warn("JWT_SECRET is not set: using a random secret for this process only");
    return randomBytes(48).toString("base64url");
  }
  const file = join(config.dataDir, SECRET_FILE);
  try {
    return readFileSync(file, "utf8").trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(config.dataDir, { recursive: true });
  const secret = randomBytes(48).toString("base64url");
  writeFileSync(file, secret, { mode: 0o600, flag: "wx" });
  log.warn({ file }, "JWT_SECRET is not set: generated a development secret (set JWT_SECRET in production)");
  return secret;
}
