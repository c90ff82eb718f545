/** `auth.setPassword`: the first password of an account that signs in without one (OAuth, magic link). */
import { recordEvent } from "../audit/events.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { appError } from "../errors.ts";
import type { PublicUser } from "../identity/user-view.ts";
import { assertStrongPassword } from "./policy.ts";

/**
 * Sets a password where there is none; PASSWORD_ALREADY_SET otherwise (a
 * password is changed with the current one, `auth.changePassword`). The write
 * is conditional on the password still being unset, so two racing calls set
 * one password. Sessions stay: adding a way in takes none away.
 */
export async function setPassword(deps: AuthDeps, user: PublicUser, newPassword: string, meta: RequestMeta): Promise<void> {
  const row = await deps.prisma.user.findUnique({ where: { id: user.id }, select: { passwordHash: true } });
  if (!row) throw appError("SESSION_REVOKED");
  if (row.passwordHash !== null) throw appError("PASSWORD_ALREADY_SET");
  assertStrongPassword(newPassword, user.email);
  const passwordHash = await deps.passwords.hash(newPassword);
  const now = deps.now();
  const set = await deps.prisma.$transaction(async (tx) => {
    const { count } = await tx.user.updateMany({ where: { id: user.id, passwordHash: null }, data: { passwordHash } });
    if (count === 1) await recordEvent(tx, user.id, "password_set", meta, now);
    return count === 1;
  });
  if (!set) throw appError("PASSWORD_ALREADY_SET");
}
