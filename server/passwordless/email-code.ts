/**
 * Six-digit sign-in codes sent by mail. A code is a one-time token
 * (purpose `email_code`) whose secret is the code itself: the row keeps a
 * SHA-256 of `<row id>.<code>` (so equal codes never share a hash), lives
 * 10 minutes, and allows 5 attempts. An attempt is taken by a conditional
 * increment before the comparison, so parallel guesses at one code never
 * get more than 5 comparisons between them (NIST SP 800-63B section 5.1.3.2:
 * rate-limited out-of-band secrets of at least 6 digits); the per-email
 * lockout around the whole check (server/limits/login-lockout.ts) caps them
 * across codes.
 */
import { randomInt, randomUUID } from "node:crypto";
import type { PrismaClient } from "../db/database.ts";
import { hashSecret, secretMatches, type IssuedToken } from "../tokens/opaque-token.ts";

const EMAIL_CODE_MAX_ATTEMPTS = 5;
const DIGITS = 6;

/** A fresh code in the shape `issueOneTimeToken` stores; `token` is the code the mail carries. */
export function newEmailCode(): IssuedToken {
  const id = randomUUID();
  const code = String(randomInt(0, 10 ** DIGITS)).padStart(DIGITS, "0");
  return { id, token: code, secretHash: hashSecret(`${id}.${code}`) };
}

/**
 * Spends one attempt of the user's live code and compares; true only for the
 * right code while attempts are left. A right code is claimed at once, so
 * two right answers racing cannot both sign in.
 */
export async function acceptEmailCode(
  prisma: Pick<PrismaClient, "oneTimeToken">,
  userId: string,
  code: string,
  now: Date,
): Promise<boolean> {
  const live = { userId, purpose: "email_code" as const, usedAt: null, expiresAt: { gt: now } };
  const row = await prisma.oneTimeToken.findFirst({ where: live, select: { id: true, secretHash: true } });
  if (!row) return false;
  const reserved = await prisma.oneTimeToken.updateMany({
    where: { id: row.id, ...live, attempts: { lt: EMAIL_CODE_MAX_ATTEMPTS } },
    data: { attempts: { increment: 1 } },
  });
  if (reserved.count === 0 || !secretMatches(`${row.id}.${code}`, row.secretHash)) return false;
  const claimed = await prisma.oneTimeToken.updateMany({ where: { id: row.id, usedAt: null }, data: { usedAt: now } });
  return claimed.count === 1;
}
