/**
 * Disabled accounts at sign-in (docs/guide.md, "Roles, admin and audit"). A
 * disabled account keeps its password but may not open a session, by any
 * route. The refusal comes only after the credential checked out, so a
 * wrong password still reads INVALID_CREDENTIALS and the answer tells a
 * stranger nothing about the account.
 */
import { appError } from "../errors.ts";
import type { TransactionClient } from "../tokens/one-time-tokens.ts";

/** Refuses a sign-in whose credential was right, when the account is disabled. */
export function assertNotDisabled(user: { id: string; disabledAt: Date | null }): void {
  if (user.disabledAt !== null) throw appError("ACCOUNT_DISABLED", { userId: user.id });
}

/**
 * Records a sign-in on the user row (`lastLoginAt`), or refuses it with
 * ACCOUNT_DISABLED, inside the transaction that opens the session. The row
 * lock orders it with a concurrent `admin.disableUser`, which revokes every
 * session after taking the same lock: either this sign-in sees the account
 * disabled, or its session exists when the revocation runs.
 */
export async function claimSignIn(tx: Pick<TransactionClient, "user">, userId: string, now: Date): Promise<void> {
  const { count } = await tx.user.updateMany({ where: { id: userId, disabledAt: null }, data: { lastLoginAt: now } });
  if (count === 0) throw appError("ACCOUNT_DISABLED", { userId });
}
