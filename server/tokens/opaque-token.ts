/**
 * Opaque tokens (refresh, password reset, email verification) as `id.secret`:
 * the id finds the row, only a SHA-256 of the secret is stored, and the
 * comparison is constant-time (Lucia's session guide; OWASP Session Management
 * Cheat Sheet: 128+ bits of entropy from a CSPRNG).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";

const SECRET_BYTES = 32;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

/** Whether a string is a UUID as PostgreSQL stores them (lower-case hex). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A freshly generated token: what the client gets, and what the database keeps. */
export interface IssuedToken {
  id: string;
  token: string;
  secretHash: Uint8Array<ArrayBuffer>;
}

/** The SHA-256 a secret is stored as. */
export function hashSecret(secret: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash("sha256").update(secret, "utf8").digest());
}

/** A new random token with its storage hash. */
export function issueOpaqueToken(): IssuedToken {
  const id = randomUUID();
  const secret = randomBytes(SECRET_BYTES).toString("base64url");
  return { id, token: `${id}.${secret}`, secretHash: hashSecret(secret) };
}

/** Splits a presented token; null when it is not of our shape. */
export function parseOpaqueToken(token: string): { id: string; secret: string } | null {
  const dot = token.indexOf(".");
  if (dot < 0) return null;
  const id = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  return UUID.test(id) && SECRET.test(secret) ? { id, secret } : null;
}

/** Whether a presented secret matches a stored hash, in constant time. */
export function secretMatches(secret: string, storedHash: Uint8Array): boolean {
  const presented = hashSecret(secret);
  return presented.length === storedHash.length && timingSafeEqual(presented, storedHash);
}
