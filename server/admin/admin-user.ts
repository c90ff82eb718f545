/**
 * The user as admin procedures see it (`AdminUser`): the public user plus its
 * roles, status and last sign-in. One `select`, one mapper for raw rows, so no
 * hash or secret can reach an admin either.
 */
import type { PrismaClient } from "../db/database.ts";
import { appError } from "../errors.ts";
import { publicUserOfRow, publicUserSelect, type PublicUser, type PublicUserRow } from "../identity/user-view.ts";
import { isUuid } from "../tokens/opaque-token.ts";

export const adminUserSelect = {
  ...publicUserSelect,
  disabledAt: true,
  disabledReason: true,
  lastLoginAt: true,
} as const;

export interface AdminUser extends PublicUser {
  disabledAt: Date | null;
  disabledReason: string | null;
  lastLoginAt: Date | null;
}

/** The columns of `adminUserSelect`, for raw queries (admin.listUsers). */
export const ADMIN_USER_COLUMNS =
  "id, email, name, email_verified, created_at, two_factor_enabled, roles, disabled_at, disabled_reason, last_login_at";

export interface AdminUserRow extends PublicUserRow {
  id: string;
  disabled_at: Date | null;
  disabled_reason: string | null;
  last_login_at: Date | null;
}

/**
 * A raw row of `ADMIN_USER_COLUMNS` as an AdminUser (the public user's fields
 * first, in its order). Named fields, not `{ ...publicUser, more }`: V8 builds
 * a spread followed by more properties on a slow path, ~2.5 µs a row, 120 µs
 * on each 50-user page of admin.listUsers (docs/performance.md); a field
 * PublicUser gains and this misses fails to compile.
 */
export function adminUserOfRow(row: AdminUserRow): AdminUser {
  const { id, email, name, emailVerified, createdAt, twoFactorEnabled, roles } = publicUserOfRow(row.id, row);
  return {
    id,
    email,
    name,
    emailVerified,
    createdAt,
    twoFactorEnabled,
    roles,
    disabledAt: row.disabled_at,
    disabledReason: row.disabled_reason,
    lastLoginAt: row.last_login_at,
  };
}

/** The user, or NOT_FOUND (also for an id that is not a UUID). */
export async function findAdminUser(prisma: Pick<PrismaClient, "user">, userId: string): Promise<AdminUser> {
  const user = isUuid(userId) ? await prisma.user.findUnique({ where: { id: userId }, select: adminUserSelect }) : null;
  if (!user) throw appError("NOT_FOUND", { message: "User not found" });
  return user;
}
