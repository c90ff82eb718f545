/**
 * The JWT signing secret. Production must set JWT_SECRET (env.ts refuses to
 * start otherwise); development generates one once and keeps it in DATA_DIR so
 * that tokens survive a restart.
 */
import type { Logger } from "pino";
import type { Config } from "../env.ts";
import { developmentSecret } from "./development-secret.ts";

/** Returns JWT_SECRET, or the development secret from (or newly written to) DATA_DIR. */
export function resolveJwtSecret(config: Config, log: Logger): string {
  return config.jwtSecret ?? developmentSecret(config, log, "JWT_SECRET", "jwt-secret");
}
