/** `auth.deleteAccount` (docs/API.md). */
import { accountPseudonym } from "../audit/events.ts";
import { verifyCurrentPassword, type PasswordCheckDeps } from "../passwords/current-password.ts";
import type { AuthDeps } from "../deps.ts";
import { lockUser, type TransactionClient } from "../tokens/one-time-tokens.ts";
import { assertNotLastAdmin, lockActiveAdmins } from "../admin/last-admin.ts";
import type { PublicUser } from "./user-view.ts";

/**
 * Deletes the user after checking the password, in one transaction. The
 * user's sessions, refresh tokens and one-time tokens go with it (ON DELETE
 * CASCADE), so no reset or verification link outlives the account. Its
 * security history stays as an audit record with the personal data removed
 * (GDPR art. 17 erasure, with the security log kept under art. 6(1)(f);
 * OWASP Logging Cheat Sheet, "Data to exclude"): each event loses its IP and
 * user agent and keeps a pseudonym of the account instead of a reference to
 * it, and one `account_deleted` event is added. Access tokens are refused
 * from the next request on, because the protected middleware resolves the
 * session live and finds it gone (SESSION_REVOKED).
 */
export async function deleteAccount(
  deps: PasswordCheckDeps & Pick<AuthDeps, "now">,
  user: PublicUser,
  password: string,
  ip: string | null,
): Promise<void> {
  await verifyCurrentPassword(deps, user, password, ip);
  const at = deps.now();
  await deps.prisma.$transaction(async (tx) => {
    // The last active admin cannot leave the service without one (LAST_ADMIN), by this door either.
    const admins = await lockActiveAdmins(tx);
    // Gone already (a concurrent deletion of the same account): not an error.
    if (!(await lockUser(tx, user.id))) return;
    assertNotLastAdmin(admins, user.id);
    await eraseAccount(tx, user.id, at);
  });
}

/**
 * Deletes a user whose row the transaction has locked, keeping its security
 * history as the pseudonymous record described above, closed by one
 * `account_deleted` entry (with the admin, the reason and the admin's IP, when an admin deleted it).
 * Entries where the user acted as an admin keep their actor id: they are the
 * record of what was done to others.
 */
export async function eraseAccount(
  tx: Pick<TransactionClient, "authEvent" | "user">,
  userId: string,
  at: Date,
  actor?: { actorId: string; reason: string; ip: string | null },
): Promise<void> {
  const subject = accountPseudonym(userId);
  await tx.authEvent.updateMany({ where: { userId }, data: { subject, ip: null, userAgent: null } });
  await tx.authEvent.create({
    data: { userId, subject, type: "account_deleted", at, ip: actor?.ip ?? null, userAgent: null, actorId: actor?.actorId ?? null, reason: actor?.reason ?? null },
  });
  // The foreign key clears userId on every event (ON DELETE SET NULL).
  await tx.user.delete({ where: { id: userId }, select: { id: true } });
}
