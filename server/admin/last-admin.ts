/**
 * LAST_ADMIN: no change may leave the service without an active admin (a
 * user holding the `admin` role who is not disabled). Every change that can
 * take an admin away (its role, disabling, deletion) locks the rows of all
 * active admins first, in id order, then counts them: two admins removing
 * each other at once are serialised, and the second sees one admin left.
 */
import { appError } from "../errors.ts";
import type { TransactionClient } from "../tokens/one-time-tokens.ts";

/** The role LAST_ADMIN protects. */
export const ADMIN_ROLE = "admin";

/** Locks the rows of the active admins (id order, the same for every caller); returns their ids. */
export async function lockActiveAdmins(tx: Pick<TransactionClient, "$queryRaw">): Promise<string[]> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT "id" FROM "users"
    WHERE "roles" @> ARRAY[${ADMIN_ROLE}]::text[] AND "disabled_at" IS NULL
    ORDER BY "id" FOR NO KEY UPDATE`;
  return rows.map((row) => row.id);
}

/** Throws LAST_ADMIN when `userId` is the only active admin among `admins` (from `lockActiveAdmins`). */
export function assertNotLastAdmin(admins: readonly string[], userId: string): void {
  if (admins.length === 1 && admins[0] === userId) throw appError("LAST_ADMIN");
}
