/** `auth.verifyMfa`: the second step of a password sign-in. */
import { eventData, recordEvent } from "../audit/events.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { appError } from "../errors.ts";
import { publicUserSelect } from "../identity/user-view.ts";
import type { Limits } from "../limits/limits.ts";
import type { Sealer } from "../secrets/sealer.ts";
import { authResult, newSessionData, type AuthResult } from "../sessions/sessions.ts";
import { reserveMfaAttempt } from "./challenge.ts";
import { acceptSecondFactor } from "./factor.ts";
import { claimSignIn } from "../identity/account-status.ts";

export type MfaDeps = AuthDeps & { sealer: Sealer; limits: Pick<Limits, "loginLockout"> };

/**
 * Completes a sign-in with a TOTP or recovery code. The attempt is taken from
 * the challenge first (at most five per challenge), then the code is checked
 * under the email's lockout like a password, so wrong codes lock the email
 * for every route in. A right code claims the challenge and opens the session
 * in one transaction: one challenge, at most one session.
 */
export async function verifyMfa(deps: MfaDeps, input: { mfaToken: string; code: string }, meta: RequestMeta): Promise<AuthResult> {
  const challenge = await reserveMfaAttempt(deps.prisma, input.mfaToken, deps.now());
  const user = await deps.prisma.user.findUnique({ where: { id: challenge.userId }, select: publicUserSelect });
  if (!user) throw appError("MFA_TOKEN_INVALID");

  const accepted: { factor: "totp" | "recovery_code" | null } = { factor: null };
  const right = await deps.limits.loginLockout.guard(user.email, async () => {
    accepted.factor = await acceptSecondFactor(deps, user.id, input.code, deps.now());
    return accepted.factor !== null;
  // Counted with the password failures of the same address (server/limits/login-lockout.ts).
  }, { ip: meta.ip });
  if (!right) {
    await recordEvent(deps.prisma, user.id, "mfa_failed", meta, deps.now());
    throw appError("MFA_CODE_INVALID");
  }

  const now = deps.now();
  const { refreshToken, data } = newSessionData(deps, meta, now);
  const sessionId = await deps.prisma.$transaction(async (tx) => {
    const claimed = await tx.mfaChallenge.updateMany({ where: { id: challenge.id, usedAt: null }, data: { usedAt: now } });
    if (claimed.count === 0) return null;
    await claimSignIn(tx, user.id, now);
    const session = await tx.session.create({ data: { ...data, userId: user.id }, select: { id: true } });
    await tx.authEvent.createMany({
      data: [
        ...(accepted.factor === "recovery_code" ? [{ userId: user.id, ...eventData("recovery_code_used", meta, now) }] : []),
        { userId: user.id, ...eventData("login", meta, now) },
      ],
    });
    return session.id;
  });
  if (sessionId === null) throw appError("MFA_TOKEN_INVALID");
  return authResult(deps, user, sessionId, refreshToken, now);
}
