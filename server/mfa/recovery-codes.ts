/**
 * Recovery codes: ten one-time codes shown once when TOTP is enabled (or
 * regenerated). Each is 10 characters of base32 (50 random bits), shown as
 * `xxxxx-xxxxx`. Only a SHA-256 of the normalised code is stored: with 50
 * random bits, the per-email lockout and a five-attempt sign-in challenge, a
 * slow hash would add cost without adding safety (the OWASP Password Storage
 * Cheat Sheet's slow hashes are for low-entropy secrets chosen by people).
 */
import { createHash, randomInt } from "node:crypto";
import type { PrismaClient } from "../db/database.ts";

const RECOVERY_CODE_COUNT = 10;
const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
const CODE_LENGTH = 10;

/** The form every code is compared in: lower case, without the hyphen or spaces. */
function normalise(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, "");
}

/** SHA-256 of a normalised code. */
function hashRecoveryCode(code: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash("sha256").update(normalise(code), "utf8").digest());
}

function newCode(): string {
  let code = "";
  for (let i = 0; i < CODE_LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/** A fresh set of codes, and the rows to store for them. */
export function newRecoveryCodes(userId: string, now: Date) {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
  return { codes, rows: codes.map((code) => ({ userId, codeHash: hashRecoveryCode(code), createdAt: now })) };
}

/** Spends one unused code of the user; true for exactly one caller, however many race with it. */
export async function useRecoveryCode(prisma: Pick<PrismaClient, "recoveryCode">, userId: string, code: string, now: Date): Promise<boolean> {
  const { count } = await prisma.recoveryCode.updateMany({
    where: { userId, codeHash: hashRecoveryCode(code), usedAt: null },
    data: { usedAt: now },
  });
  return count === 1;
}
