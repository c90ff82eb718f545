/**
 * Checking a second-factor code against what is stored: a TOTP code against
 * the user's sealed secret, or one of the recovery codes. Each check also
 * spends what it accepts, with a conditional update, so that of two requests
 * racing with one code exactly one succeeds.
 */
import type { PrismaClient } from "../db/database.ts";
import type { Sealer } from "../secrets/sealer.ts";
import { useRecoveryCode } from "./recovery-codes.ts";
import { matchingTotpStep } from "./totp.ts";

/** The additional data a user's TOTP secret is sealed with: it opens for that user's row only. */
export const totpSealContext = (userId: string) => `totp:${userId}`;

/** A six-digit code is a TOTP code; anything else that passed the schema is a recovery code. */
const isTotpCode = (code: string) => /^\d{6}$/.test(code);

export interface FactorDeps {
  prisma: Pick<PrismaClient, "totpFactor" | "recoveryCode">;
  sealer: Sealer;
}

/**
 * Whether `code` is a valid, unused TOTP code for the user's factor: the
 * confirmed one, or (for `pending: true`) the setup awaiting confirmation.
 * Accepting it records its step, so the same code (or an older one) is refused
 * afterwards (RFC 6238 section 5.2: "the verifier MUST NOT accept the second
 * attempt of the OTP after the successful validation has been issued").
 */
export async function acceptTotpCode(
  deps: FactorDeps,
  userId: string,
  code: string,
  now: Date,
  options: { pending: boolean },
): Promise<boolean> {
  if (!isTotpCode(code)) return false;
  const confirmed = options.pending ? { confirmedAt: null } : { confirmedAt: { not: null } };
  const factor = await deps.prisma.totpFactor.findFirst({
    where: { userId, ...confirmed },
    select: { sealedSecret: true },
  });
  if (!factor) return false;
  const step = matchingTotpStep(deps.sealer.open(factor.sealedSecret, totpSealContext(userId)), code, now);
  if (step === null) return false;
  const { count } = await deps.prisma.totpFactor.updateMany({
    where: { userId, ...confirmed, OR: [{ lastUsedStep: null }, { lastUsedStep: { lt: step } }] },
    data: { lastUsedStep: step },
  });
  return count === 1;
}

/** Which factor accepted `code` (a TOTP code or a recovery code), or null when none did. */
export async function acceptSecondFactor(
  deps: FactorDeps,
  userId: string,
  code: string,
  now: Date,
): Promise<"totp" | "recovery_code" | null> {
  if (isTotpCode(code)) return (await acceptTotpCode(deps, userId, code, now, { pending: false })) ? "totp" : null;
  return (await useRecoveryCode(deps.prisma, userId, code, now)) ? "recovery_code" : null;
}
