/**
 * Re-checking a signed-in user's password (change password, delete account)
 * under the same per-email lockout as login: otherwise a stolen access token
 * would allow unlimited guesses at the password (OWASP ASVS v4 2.2.1).
 */
import { appError } from "../errors.ts";
import type { Limits } from "../limits/limits.ts";
import type { AuthDeps } from "../deps.ts";

/** What re-checking a password needs: the user's row, the hasher and the login lockout. */
export type PasswordCheckDeps = Pick<AuthDeps, "prisma" | "passwords"> & { limits: Pick<Limits, "loginLockout"> };

/**
 * Reads the signed-in user's password hash and checks `password` against it.
 * Throws SESSION_REVOKED when the account is gone, RATE_LIMITED while the
 * email is locked, CURRENT_PASSWORD_INVALID (counted) on a wrong password,
 * and PASSWORD_NOT_SET for an account that signs in without one (OAuth, magic
 * link): it has to `auth.setPassword` first. Answers the hash it verified,
 * for a change that must not overwrite a newer one.
 */
export async function verifyCurrentPassword(
  deps: PasswordCheckDeps,
  user: { id: string; email: string },
  password: string,
  ip: string | null = null,
): Promise<string> {
  const row = await deps.prisma.user.findUnique({ where: { id: user.id }, select: { passwordHash: true } });
  if (!row) throw appError("SESSION_REVOKED");
  const { passwordHash } = row;
  if (passwordHash === null) throw appError("PASSWORD_NOT_SET");
  const right = await deps.limits.loginLockout.guard(user.email, () => deps.passwords.verify(password, passwordHash), { ip });
  // 403, not 401: the caller is signed in; a client must not treat it as a dead session.
  if (!right) throw appError("CURRENT_PASSWORD_INVALID");
  return passwordHash;
}
