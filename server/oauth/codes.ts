/**
 * The one-time `code` a sign-in callback hands the frontend in its redirect:
 * an opaque `id.secret` token (SHA-256 of the secret stored), single use,
 * 60 seconds. It stands for the identity the provider asserted; no token of
 * ours or the provider's ever appears in a URL (RFC 9700 section 4.3).
 */
import type { PrismaClient } from "../db/database.ts";
import { issueOpaqueToken, parseOpaqueToken, secretMatches } from "../tokens/opaque-token.ts";
import type { ProviderProfile } from "./provider.ts";

const OAUTH_CODE_TTL_SECONDS = 60;

/** Stores the asserted identity under a new code; returns the code. */
export async function issueOAuthCode(prisma: Pick<PrismaClient, "oAuthCode">, profile: ProviderProfile, now: Date): Promise<string> {
  const issued = issueOpaqueToken();
  await prisma.oAuthCode.deleteMany({ where: { expiresAt: { lte: now } } });
  await prisma.oAuthCode.create({
    data: {
      id: issued.id,
      secretHash: issued.secretHash,
      provider: profile.provider,
      subject: profile.subject,
      email: profile.email,
      emailVerified: profile.emailVerified,
      name: profile.name,
      createdAt: now,
      expiresAt: new Date(now.getTime() + OAUTH_CODE_TTL_SECONDS * 1000),
    },
  });
  return issued.token;
}

/** Spends a code once; the identity it stood for, or null (unknown, tampered, expired, used). */
export async function claimOAuthCode(prisma: Pick<PrismaClient, "oAuthCode">, code: string, now: Date): Promise<ProviderProfile | null> {
  const parsed = parseOpaqueToken(code);
  if (!parsed) return null;
  const row = await prisma.oAuthCode.findUnique({ where: { id: parsed.id } });
  if (!row || !secretMatches(parsed.secret, row.secretHash)) return null;
  const { count } = await prisma.oAuthCode.updateMany({ where: { id: row.id, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
  if (count !== 1) return null;
  return { provider: row.provider, subject: row.subject, email: row.email, emailVerified: row.emailVerified, name: row.name };
}
