/**
 * Single-use tokens sent by mail: password reset (1 hour), email
 * verification (24 hours), magic links (15 minutes) and email codes (10
 * minutes; server/passwordless/email-code.ts), docs/API.md. They are opaque `id.secret`
 * strings of which only a SHA-256 of the secret is stored. A user holds at
 * most one live token per purpose: issuing one deletes the earlier ones.
 * Using one is a conditional update (`usedAt` still null, not expired), so two
 * requests racing with one token can never both succeed.
 *
 * Transactions that touch a user's tokens lock the user's row first
 * (`lockUser`), so they take their locks in one order and cannot deadlock
 * with each other or with an account deletion (which cascades from the user).
 */
import type { PrismaClient } from "../db/database.ts";
import type { AuthDeps } from "../deps.ts";
import { appError, type AppCode } from "../errors.ts";
import type { Prisma, TokenPurpose } from "../generated/prisma/client.ts";
import { issueOpaqueToken, parseOpaqueToken, secretMatches, type IssuedToken } from "./opaque-token.ts";

export type { TokenPurpose };

/** The client inside `prisma.$transaction(async (tx) => ...)`. */
export type TransactionClient = Prisma.TransactionClient;

/** Lifetime of each kind of token, in seconds (docs/API.md). */
const ONE_TIME_TOKEN_TTL: Readonly<Record<TokenPurpose, number>> = {
  password_reset: 60 * 60,
  email_verification: 24 * 60 * 60,
  magic_link: 15 * 60,
  email_code: 10 * 60,
};

/** A freshly issued token and the row to store for it (for nested creates). */
export function oneTimeTokenData(purpose: TokenPurpose, now: Date, issued: IssuedToken = issueOpaqueToken()) {
  return {
    token: issued.token,
    data: {
      id: issued.id,
      purpose,
      secretHash: issued.secretHash,
      createdAt: now,
      expiresAt: new Date(now.getTime() + ONE_TIME_TOKEN_TTL[purpose] * 1000),
    },
  };
}

/**
 * Locks a user's row for the rest of the transaction; false when the user is gone.
 * FOR NO KEY UPDATE serialises token work per user without blocking the
 * foreign-key checks of unrelated inserts (sessions, events) for that user.
 */
export async function lockUser(tx: Pick<TransactionClient, "$queryRaw">, userId: string): Promise<boolean> {
  const rows = await tx.$queryRaw<unknown[]>`SELECT 1 FROM "users" WHERE "id" = ${userId}::uuid FOR NO KEY UPDATE`;
  return rows.length > 0;
}

/**
 * Issues a new token of `purpose` for a user, deleting the user's earlier ones
 * of that purpose, and runs `alongside` in the same transaction (to record the
 * event). Returns the token, or null when the user no longer exists.
 */
export async function issueOneTimeToken(
  prisma: PrismaClient,
  userId: string,
  purpose: TokenPurpose,
  now: Date,
  alongside?: (tx: TransactionClient) => Promise<void>,
  issued?: IssuedToken,
): Promise<string | null> {
  const { token, data } = oneTimeTokenData(purpose, now, issued);
  return prisma.$transaction(async (tx) => {
    // Serialises concurrent requests for one user, so that the newest token
    // really is the only live one.
    if (!(await lockUser(tx, userId))) return null;
    await tx.oneTimeToken.deleteMany({ where: { userId, purpose } });
    await tx.oneTimeToken.create({ data: { ...data, userId } });
    await alongside?.(tx);
    return token;
  });
}

/** A presented token that is, for now, usable: right shape, known, matching, unused, unexpired. */
export interface UsableToken {
  id: string;
  userId: string;
}

/**
 * Looks a presented token up without using it; null for anything that is not
 * a live token of `purpose`. Callers that must do slow work (hashing a new
 * password) do it after this check and before `claimOneTimeToken`.
 */
export async function findUsableToken(
  prisma: Pick<PrismaClient, "oneTimeToken">,
  presented: string,
  purpose: TokenPurpose,
  now: Date,
): Promise<UsableToken | null> {
  const parsed = parseOpaqueToken(presented);
  if (!parsed) return null;
  const row = await prisma.oneTimeToken.findUnique({
    where: { id: parsed.id },
    select: { userId: true, purpose: true, secretHash: true, usedAt: true, expiresAt: true },
  });
  if (!row || !secretMatches(parsed.secret, row.secretHash)) return null;
  if (row.purpose !== purpose || row.usedAt !== null || row.expiresAt <= now) return null;
  return { id: parsed.id, userId: row.userId };
}

/**
 * Retires every outstanding reset and verification token of a user. A token
 * was issued to whoever held the account at the time: once the password
 * changes, is reset, or every session is thrown out, a link mailed earlier
 * must not undo that (OWASP Forgot Password Cheat Sheet: "invalidate the
 * token ... when the password is changed"). Run it in the transaction that
 * makes the change, after `lockUser`.
 */
export async function retireOneTimeTokens(tx: Pick<TransactionClient, "oneTimeToken">, userId: string): Promise<number> {
  const { count } = await tx.oneTimeToken.deleteMany({ where: { userId, usedAt: null } });
  return count;
}

/**
 * Marks a token used if it still is usable; true for exactly one caller.
 * Run it in the transaction that applies what the token allows, after
 * `lockUser`, so that the token is spent if and only if that change is made.
 */
export async function claimOneTimeToken(tx: Pick<TransactionClient, "oneTimeToken">, id: string, now: Date): Promise<boolean> {
  const { count } = await tx.oneTimeToken.updateMany({
    where: { id, usedAt: null, expiresAt: { gt: now } },
    data: { usedAt: now },
  });
  return count === 1;
}

/**
 * Spends a presented token of `purpose` and applies what it allows, in one
 * transaction: the user's row locked, the token claimed, then `apply`. Throws
 * `invalid` for anything but a live token, including one that a racing
 * request spent first. (A password reset spends its token by hand: it checks
 * and hashes the new password between finding the token and spending it.)
 */
export async function redeemOneTimeToken<T extends object>(
  deps: Pick<AuthDeps, "prisma" | "now">,
  presented: string,
  purpose: TokenPurpose,
  invalid: AppCode,
  apply: (tx: TransactionClient, userId: string, now: Date) => Promise<T>,
): Promise<T> {
  const now = deps.now();
  const found = await findUsableToken(deps.prisma, presented, purpose, now);
  if (!found) throw appError(invalid);
  const result = await deps.prisma.$transaction(async (tx) => {
    if (!(await lockUser(tx, found.userId)) || !(await claimOneTimeToken(tx, found.id, now))) return null;
    return apply(tx, found.userId, now);
  });
  if (!result) throw appError(invalid);
  return result;
}
