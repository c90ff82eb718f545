/**
 * The one shape in which a user leaves the server. Every query that returns a
 * user selects exactly these columns, so a password hash cannot leak by
 * accident (tRPC starter's `defaultPostSelect`).
 */
import type { Prisma } from "../generated/prisma/client.ts";

export const publicUserSelect = {
  id: true,
  email: true,
  name: true,
  emailVerified: true,
  createdAt: true,
  twoFactorEnabled: true,
  roles: true,
} as const;

/** The columns of `publicUserSelect` as a raw query returns them (the hot-path lookups bypass Prisma). */
export interface PublicUserRow {
  email: string;
  name: string;
  email_verified: boolean;
  created_at: Date;
  two_factor_enabled: boolean;
  roles: string[] | null;
}

/** A raw row as the PublicUser Prisma would answer (a NULL list as [], as Prisma does). */
export function publicUserOfRow(id: string, row: PublicUserRow): PublicUser {
  return {
    id,
    email: row.email,
    name: row.name,
    emailVerified: row.email_verified,
    createdAt: row.created_at,
    twoFactorEnabled: row.two_factor_enabled,
    roles: row.roles ?? [],
  };
}

/** A user as it leaves the server: the Prisma payload of `publicUserSelect`. Roles are names of the permission catalogue (server/admin/permissions.ts). */
export type PublicUser = Prisma.UserGetPayload<{ select: typeof publicUserSelect }>;
