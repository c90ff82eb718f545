/**
 * The JWT signing secret. Production must set JWT_SECRET when JWT_ALG is
 * HS256 (env.ts refuses to start otherwise); development generates one once
 * and keeps it in DATA_DIR so that tokens survive a restart. With an
 * asymmetric JWT_ALG in production the secret is optional: set, it keeps
 * HS256 tokens issued before the switch verifying until they expire.
 */
import type { Logger } from "pino";
import type { Config } from "../env.ts";
import { developmentSecret } from "./development-secret.ts";

/** Returns JWT_SECRET, the development secret from (or newly written to) DATA_DIR, or nothing (production, asymmetric). */
export function resolveJwtSecret(config: Config, log: Logger): string | undefined {
  if (config.jwtSecret !== undefined) return config.jwtSecret;
  if (config.production) return undefined;
  return developmentSecret(config, log, "JWT_SECRET", "jwt-secret");
}
