/**
 * Secrets that development may generate for itself: made once, kept in
 * DATA_DIR (0600) so that they survive a restart, and announced with a warning.
 * Production always takes them from the environment (env.ts checks that).
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { makePrivateDir, PRIVATE_FILE_MODE } from "../data-dir.ts";
import type { Config } from "../env.ts";

/** The development value of `variable`, read from (or newly written to) `DATA_DIR/file`. */
export function developmentSecret(config: Pick<Config, "dataDir">, log: Logger, variable: string, file: string): string {
  if (config.dataDir === ":memory:") {
    log.warn(`${variable} is not set: using a random value for this process only`);
    return randomBytes(32).toString("base64url");
  }
  const path = join(config.dataDir, file);
  try {
    return readFileSync(path, "utf8").trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  makePrivateDir(config.dataDir);
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(path, secret, { mode: PRIVATE_FILE_MODE, flag: "wx" });
  log.warn({ file: path }, `${variable} is not set: generated a development value (set ${variable} in production)`);
  return secret;
}
