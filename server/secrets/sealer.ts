/**
 * Sealing secrets at rest (TOTP secrets, private signing keys, webhook
 * secrets, refresh grace successors) with AES-256-GCM under ENCRYPTION_KEY.
 *
 * A sealed value is `v1.<iv>.<ciphertext+tag>` (base64url): a fresh 96-bit IV
 * per value (NIST SP 800-38D section 8.2.2), and the 128-bit tag checked on
 * open, so a value changed in the database fails to open instead of decrypting
 * to garbage. `context` is bound as additional data: a value sealed for one
 * row and purpose cannot be moved to another (OWASP Cryptographic Storage
 * Cheat Sheet).
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Config } from "../env.ts";
import { developmentSecret } from "./development-secret.ts";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Seals and opens short secrets; `context` names what the value is for (e.g. `totp:<userId>`). */
export interface Sealer {
  seal(plaintext: string, context: string): string;
  /** The plaintext, or throws when the value was not sealed by this key for this context. */
  open(sealed: string, context: string): string;
}

/** A sealer for a 32-byte key. */
export function createSealer(key: Buffer): Sealer {
  if (key.length !== 32) throw new Error("ENCRYPTION_KEY must be 32 bytes");
  return {
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(context, "utf8"));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
      return `${VERSION}.${iv.toString("base64url")}.${body.toString("base64url")}`;
    },
    open(sealed, context) {
      const [version, iv, body] = sealed.split(".");
      if (version !== VERSION || iv === undefined || body === undefined) throw new Error("not a sealed value");
      const bytes = Buffer.from(body, "base64url");
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(context, "utf8"));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)), decipher.final()]).toString("utf8");
    },
  };
}

/**
 * A sealer that refuses every use, for production without ENCRYPTION_KEY:
 * the features that seal secrets fail loudly, naming the variable, instead of
 * storing anything in plain text.
 */
function missingKeySealer(): Sealer {
  const refuse = (): never => {
    throw new Error("ENCRYPTION_KEY is required in production to store this secret (32 bytes, base64 or hex)");
  };
  return { seal: refuse, open: refuse };
}

/**
 * ENCRYPTION_KEY, or in development a key generated once into DATA_DIR like
 * JWT_SECRET; null in production without the variable.
 */
export function resolveEncryptionKey(config: Pick<Config, "encryptionKey" | "production" | "dataDir">, log: Logger): Buffer | null {
  if (config.encryptionKey !== undefined) return config.encryptionKey;
  if (config.production) return null;
  return Buffer.from(developmentSecret(config, log, "ENCRYPTION_KEY", "encryption-key"), "base64url");
}

/** ENCRYPTION_KEY's sealer; in production without the key, one that refuses every use. */
export function resolveSealer(config: Pick<Config, "encryptionKey" | "production" | "dataDir">, log: Logger): Sealer {
  const key = resolveEncryptionKey(config, log);
  return key === null ? missingKeySealer() : createSealer(key);
}
