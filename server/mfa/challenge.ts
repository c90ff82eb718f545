/**
 * The sign-in challenge (`mfaToken`) a password sign-in answers with when the
 * user has a second factor. It is an opaque `id.secret` token of which only a
 * SHA-256 of the secret is stored (like refresh tokens), bound to the user and
 * to the sign-in that created it, single use, and short: 5 minutes and at most
 * five attempts, so a stolen password plus one challenge allows five guesses
 * at a six-digit code (NIST SP 800-63B section 5.2.2, rate limiting).
 */
import type { PrismaClient } from "../db/database.ts";
import type { RequestMeta } from "../deps.ts";
import { appError } from "../errors.ts";
import { issueOpaqueToken, parseOpaqueToken, secretMatches } from "../tokens/opaque-token.ts";

const MFA_CHALLENGE_TTL_SECONDS = 5 * 60;
const MFA_CHALLENGE_MAX_ATTEMPTS = 5;

type MfaMethod = "totp" | "recovery_code" | "passkey";

/** What `auth.login` answers instead of an `AuthResult` when a second step is needed. */
export interface MfaChallenge {
  mfaRequired: true;
  mfaToken: string;
  methods: MfaMethod[];
  expiresIn: number;
}

/** Opens a challenge for a user whose password was just accepted. No session exists yet. */
export async function issueMfaChallenge(
  deps: { prisma: Pick<PrismaClient, "mfaChallenge" | "passkey">; now: () => Date },
  userId: string,
  meta: RequestMeta,
): Promise<MfaChallenge> {
  const now = deps.now();
  const issued = issueOpaqueToken();
  // The user's spent and expired challenges go as new ones are made, so the table stays small.
  await deps.prisma.mfaChallenge.deleteMany({ where: { userId, OR: [{ expiresAt: { lte: now } }, { usedAt: { not: null } }] } });
  const [, passkeys] = await Promise.all([
    deps.prisma.mfaChallenge.create({
      data: {
        id: issued.id,
        userId,
        secretHash: issued.secretHash,
        createdAt: now,
        expiresAt: new Date(now.getTime() + MFA_CHALLENGE_TTL_SECONDS * 1000),
        ip: meta.ip,
        userAgent: meta.userAgent,
      },
      select: { id: true },
    }),
    deps.prisma.passkey.count({ where: { userId } }),
  ]);
  return {
    mfaRequired: true,
    mfaToken: issued.token,
    // A passkey sign-in (passkey.authenticate) is a full sign-in of its own.
    methods: passkeys > 0 ? ["totp", "recovery_code", "passkey"] : ["totp", "recovery_code"],
    expiresIn: MFA_CHALLENGE_TTL_SECONDS,
  };
}

/**
 * Takes one attempt of a live challenge before its code is checked: a
 * conditional increment, so a hundred parallel guesses with one token get at
 * most five attempts between them. Throws MFA_TOKEN_INVALID for anything that
 * is not a live challenge with attempts left.
 */
export async function reserveMfaAttempt(
  prisma: Pick<PrismaClient, "mfaChallenge">,
  mfaToken: string,
  now: Date,
): Promise<{ id: string; userId: string }> {
  const parsed = parseOpaqueToken(mfaToken);
  if (!parsed) throw appError("MFA_TOKEN_INVALID");
  const row = await prisma.mfaChallenge.findUnique({ where: { id: parsed.id }, select: { userId: true, secretHash: true } });
  if (!row || !secretMatches(parsed.secret, row.secretHash)) throw appError("MFA_TOKEN_INVALID");
  const { count } = await prisma.mfaChallenge.updateMany({
    where: { id: parsed.id, usedAt: null, expiresAt: { gt: now }, attempts: { lt: MFA_CHALLENGE_MAX_ATTEMPTS } },
    data: { attempts: { increment: 1 } },
  });
  if (count === 0) throw appError("MFA_TOKEN_INVALID");
  return { id: parsed.id, userId: row.userId };
}
