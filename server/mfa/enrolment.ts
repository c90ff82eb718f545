/**
 * Turning TOTP on and off, and the recovery codes that come with it
 * (`mfa.*`). Every change needs the password (or, to finish a setup, a code
 * from the new secret), runs its checks under the per-email lockout, and
 * writes an AuthEvent in the transaction that makes it.
 */
import { eventData, recordEvent, type AuthEventType } from "../audit/events.ts";
import type { RequestMeta } from "../deps.ts";
import { appError } from "../errors.ts";
import type { PublicUser } from "../identity/user-view.ts";
import { verifyCurrentPassword } from "../passwords/current-password.ts";
import { lockUser, type TransactionClient } from "../tokens/one-time-tokens.ts";
import { acceptSecondFactor, acceptTotpCode, totpSealContext } from "./factor.ts";
import { newRecoveryCodes } from "./recovery-codes.ts";
import type { MfaDeps } from "./sign-in.ts";
import { newTotpSecret, totpProvisioning } from "./totp.ts";

/**
 * How long a setup waits for its confirming code. After that it is gone and
 * leaves no factor behind; the user starts again with `mfa.totpSetup`.
 */
const TOTP_SETUP_TTL_SECONDS = 10 * 60;

/** `mfa.status`. */
export async function mfaStatus(deps: Pick<MfaDeps, "prisma">, userId: string) {
  const [totp, recoveryCodesLeft, passkeys] = await Promise.all([
    deps.prisma.totpFactor.count({ where: { userId, confirmedAt: { not: null } } }),
    deps.prisma.recoveryCode.count({ where: { userId, usedAt: null } }),
    deps.prisma.passkey.count({ where: { userId } }),
  ]);
  return { totp: totp > 0, recoveryCodesLeft, passkeys };
}

async function isEnabled(deps: Pick<MfaDeps, "prisma">, userId: string): Promise<boolean> {
  return (await deps.prisma.totpFactor.count({ where: { userId, confirmedAt: { not: null } } })) > 0;
}

/** Replaces the user's recovery codes and records `event`, inside a transaction. */
async function replaceRecoveryCodes(tx: TransactionClient, userId: string, event: AuthEventType, meta: RequestMeta, now: Date) {
  const { codes, rows } = newRecoveryCodes(userId, now);
  await tx.recoveryCode.deleteMany({ where: { userId } });
  await tx.recoveryCode.createMany({ data: rows });
  await tx.authEvent.create({ data: { userId, ...eventData(event, meta, now) } });
  return codes;
}

/**
 * `mfa.totpSetup`: a new secret, sealed at rest and not active until
 * `mfa.totpEnable` confirms it. A second setup replaces an unconfirmed one.
 */
export async function setupTotp(deps: MfaDeps, user: PublicUser, password: string) {
  if (await isEnabled(deps, user.id)) throw appError("MFA_ALREADY_ENABLED");
  await verifyCurrentPassword(deps, user, password);
  const secret = newTotpSecret();
  const now = deps.now();
  const sealedSecret = deps.sealer.seal(secret, totpSealContext(user.id));
  await deps.prisma.$transaction(async (tx) => {
    // Serialises setups of one user: the later one replaces the earlier.
    if (!(await lockUser(tx, user.id))) throw appError("SESSION_REVOKED");
    await tx.totpFactor.deleteMany({ where: { userId: user.id, confirmedAt: null } });
    // What is left is a factor confirmed since the check above.
    if ((await tx.totpFactor.count({ where: { userId: user.id } })) > 0) throw appError("MFA_ALREADY_ENABLED");
    await tx.totpFactor.create({ data: { userId: user.id, sealedSecret, createdAt: now } });
  });
  return { secret, ...(await totpProvisioning(secret, user.email)) };
}

/** `mfa.totpEnable`: confirms the pending setup with a code from it; answers the recovery codes, once. */
export async function enableTotp(deps: MfaDeps, user: PublicUser, code: string, meta: RequestMeta) {
  const now = deps.now();
  const pending = await deps.prisma.totpFactor.findUnique({ where: { userId: user.id }, select: { createdAt: true, confirmedAt: true } });
  if (pending?.confirmedAt) throw appError("MFA_ALREADY_ENABLED");
  if (!pending || pending.createdAt.getTime() + TOTP_SETUP_TTL_SECONDS * 1000 <= now.getTime()) {
    if (pending) await deps.prisma.totpFactor.deleteMany({ where: { userId: user.id, confirmedAt: null } });
    throw appError("MFA_NOT_ENABLED", { message: "No two-factor setup in progress (or it expired): start again with mfa.totpSetup" });
  }
  const right = await deps.limits.loginLockout.guard(user.email, () => acceptTotpCode(deps, user.id, code, now, { pending: true }), {
    ip: meta.ip,
  });
  if (!right) {
    await recordEvent(deps.prisma, user.id, "mfa_failed", meta, now);
    throw appError("MFA_CODE_INVALID");
  }
  const recoveryCodes = await deps.prisma.$transaction(async (tx) => {
    const confirmed = await tx.totpFactor.updateMany({ where: { userId: user.id, confirmedAt: null }, data: { confirmedAt: now } });
    if (confirmed.count === 0) throw appError("MFA_ALREADY_ENABLED");
    await tx.user.update({ where: { id: user.id }, data: { twoFactorEnabled: true }, select: { id: true } });
    return replaceRecoveryCodes(tx, user.id, "mfa_enabled", meta, now);
  });
  return { recoveryCodes };
}

/** `mfa.totpDisable`: needs the password and a current code (TOTP, or a recovery code for a lost device). */
export async function disableTotp(deps: MfaDeps, user: PublicUser, input: { password: string; code: string }, meta: RequestMeta) {
  if (!(await isEnabled(deps, user.id))) throw appError("MFA_NOT_ENABLED");
  await verifyCurrentPassword(deps, user, input.password);
  const right = await deps.limits.loginLockout.guard(
    user.email,
    async () => (await acceptSecondFactor(deps, user.id, input.code, deps.now())) !== null,
    { ip: meta.ip },
  );
  const now = deps.now();
  if (!right) {
    await recordEvent(deps.prisma, user.id, "mfa_failed", meta, now);
    throw appError("MFA_CODE_INVALID");
  }
  await deps.prisma.$transaction(async (tx) => {
    await tx.totpFactor.deleteMany({ where: { userId: user.id } });
    await tx.recoveryCode.deleteMany({ where: { userId: user.id } });
    await tx.mfaChallenge.deleteMany({ where: { userId: user.id } });
    await tx.user.update({ where: { id: user.id }, data: { twoFactorEnabled: false }, select: { id: true } });
    await tx.authEvent.create({ data: { userId: user.id, ...eventData("mfa_disabled", meta, now) } });
  });
}

/** `mfa.recoveryCodesRegenerate`: ten new codes; the old ones stop working. */
export async function regenerateRecoveryCodes(deps: MfaDeps, user: PublicUser, password: string, meta: RequestMeta) {
  if (!(await isEnabled(deps, user.id))) throw appError("MFA_NOT_ENABLED");
  await verifyCurrentPassword(deps, user, password);
  const now = deps.now();
  const recoveryCodes = await deps.prisma.$transaction((tx) =>
    replaceRecoveryCodes(tx, user.id, "recovery_codes_regenerated", meta, now),
  );
  return { recoveryCodes };
}
