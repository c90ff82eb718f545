/**
 * WebAuthn challenges: random, single use, 5 minutes (W3C WebAuthn Level 3,
 * section 13.4.3: challenges must be random and used once). Each is stored
 * with its ceremony and, for a registration, the user it was issued to; using
 * one is a conditional update, so of two requests with one challenge exactly
 * one gets it.
 */
import { randomBytes } from "node:crypto";
import type { PrismaClient } from "../db/database.ts";
import type { WebauthnCeremony } from "../generated/prisma/client.ts";
import { isUuid } from "../tokens/opaque-token.ts";

export const WEBAUTHN_CHALLENGE_TTL_SECONDS = 5 * 60;

type ChallengeDeps = { prisma: Pick<PrismaClient, "webauthnChallenge">; now: () => Date };

/** A new challenge (base64url, 256 bits), stored; its row id and value. */
export async function issueWebauthnChallenge(
  deps: ChallengeDeps,
  ceremony: WebauthnCeremony,
  userId: string | null,
): Promise<{ id: string; challenge: string }> {
  const now = deps.now();
  const challenge = randomBytes(32).toString("base64url");
  // Expired challenges are dropped as new ones are made, so the table stays small.
  await deps.prisma.webauthnChallenge.deleteMany({ where: { expiresAt: { lte: now } } });
  const row = await deps.prisma.webauthnChallenge.create({
    data: { ceremony, userId, challenge, createdAt: now, expiresAt: new Date(now.getTime() + WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000) },
    select: { id: true },
  });
  return { id: row.id, challenge };
}

/** Spends the registration challenge `challenge` of this user; false when it is not live. */
export async function claimRegistrationChallenge(deps: ChallengeDeps, userId: string, challenge: string): Promise<boolean> {
  const now = deps.now();
  const { count } = await deps.prisma.webauthnChallenge.updateMany({
    where: { challenge, userId, ceremony: "registration", usedAt: null, expiresAt: { gt: now } },
    data: { usedAt: now },
  });
  return count === 1;
}

/** Spends the authentication challenge with this id; its value, or null when it is not live. */
export async function claimAuthenticationChallenge(deps: ChallengeDeps, challengeId: string): Promise<string | null> {
  if (!isUuid(challengeId)) return null;
  const now = deps.now();
  const { count } = await deps.prisma.webauthnChallenge.updateMany({
    where: { id: challengeId, ceremony: "authentication", usedAt: null, expiresAt: { gt: now } },
    data: { usedAt: now },
  });
  if (count === 0) return null;
  const row = await deps.prisma.webauthnChallenge.findUnique({ where: { id: challengeId }, select: { challenge: true } });
  return row?.challenge ?? null;
}
