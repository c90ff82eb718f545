/** `auth.deleteAccount` (docs/API.md). */
import { appError } from "../errors.ts";
import type { Limits } from "../limits/limits.ts";
import { verifyCurrentPassword } from "../passwords/current-password.ts";
import type { AuthDeps } from "../deps.ts";
import type { PublicUser } from "./user-view.ts";

/**
 * Deletes the user after checking the password. One DELETE removes the user
 * and, through the ON DELETE CASCADE foreign keys, its sessions, refresh
 * tokens, one-time tokens and events, atomically. Access tokens are refused
 * from the next request on, because the protected middleware resolves the
 * session live and finds it gone (SESSION_REVOKED).
 */
export async function deleteAccount(
  deps: AuthDeps & { limits: Pick<Limits, "loginLockout"> },
  user: PublicUser,
  password: string,
  ip: string | null,
): Promise<void> {
  const row = await deps.prisma.user.findUnique({ where: { id: user.id }, select: { passwordHash: true } });
  if (!row) throw appError("SESSION_REVOKED");
  await verifyCurrentPassword(deps, user.email, password, row.passwordHash, ip);
  // deleteMany, not delete: a concurrent deletion of the same account is not an error.
  await deps.prisma.user.deleteMany({ where: { id: user.id } });
}
