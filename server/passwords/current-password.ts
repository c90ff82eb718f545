/**
 * Re-checking a signed-in user's password (change password, delete account)
 * under the same per-email lockout as login: otherwise a stolen access token
 * would allow unlimited guesses at the password (OWASP ASVS v4 2.2.1).
 */
import { appError } from "../errors.ts";
import type { Limits } from "../limits/limits.ts";
import type { PasswordHasher } from "./hasher.ts";

/**
 * Throws RATE_LIMITED while the email is locked, CURRENT_PASSWORD_INVALID
 * (counted) on a wrong password, and PASSWORD_NOT_SET for an account that
 * signs in without one (OAuth, magic link): it has to `auth.setPassword` first.
 */
export async function verifyCurrentPassword(
  deps: { passwords: PasswordHasher; limits: Pick<Limits, "loginLockout"> },
  email: string,
  password: string,
  passwordHash: string | null,
  ip: string | null = null,
): Promise<void> {
  if (passwordHash === null) throw appError("PASSWORD_NOT_SET");
  const right = await deps.limits.loginLockout.guard(email, () => deps.passwords.verify(password, passwordHash), { ip });
  // 403, not 401: the caller is signed in; a client must not treat it as a dead session.
  if (!right) throw appError("CURRENT_PASSWORD_INVALID");
}
