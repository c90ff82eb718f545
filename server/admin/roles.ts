/**
 * Setting a user's roles: `admin.setRoles`, and `npm run admin -- grant|revoke`
 * (scripts/admin.ts). Roles come from the catalogue (server/admin/permissions.ts);
 * the change and its audit entry are one transaction, and it takes effect on
 * the user's next request (roles are read with the session).
 */
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { recordEvent } from "../audit/events.ts";
import { appError } from "../errors.ts";
import { lockUser } from "../tokens/one-time-tokens.ts";
import { adminUserSelect, type AdminUser } from "./admin-user.ts";
import { ADMIN_ROLE, assertNotLastAdmin, lockActiveAdmins } from "./last-admin.ts";
import { ROLE_NAMES, type Role } from "./permissions.ts";

/** Who made a change: an admin, or the command line (null). */
export interface Actor {
  id: string | null;
  meta: RequestMeta;
}

/** Roles in catalogue order, each once. */
function normaliseRoles(roles: readonly string[]): Role[] {
  return ROLE_NAMES.filter((role) => roles.includes(role));
}

/**
 * Replaces a user's roles with `next(current)`; NOT_FOUND for an unknown user,
 * LAST_ADMIN when it would take the `admin` role from the last active admin.
 * Writes `roles_changed` (the new roles as its detail) only when they change.
 */
export async function changeRoles(
  deps: Pick<AuthDeps, "prisma" | "now">,
  userId: string,
  next: (current: readonly string[]) => readonly Role[],
  actor: Actor,
  reason: string | null = null,
): Promise<AdminUser> {
  return deps.prisma.$transaction(async (tx) => {
    const admins = await lockActiveAdmins(tx);
    if (!(await lockUser(tx, userId))) throw appError("NOT_FOUND", { message: "User not found" });
    const user = await tx.user.findUniqueOrThrow({ where: { id: userId }, select: adminUserSelect });
    const roles = normaliseRoles(next(user.roles));
    if (roles.join() === user.roles.join()) return user;
    if (user.roles.includes(ADMIN_ROLE) && !roles.includes(ADMIN_ROLE)) assertNotLastAdmin(admins, userId);
    const updated = await tx.user.update({ where: { id: userId }, data: { roles }, select: adminUserSelect });
    await recordEvent(tx, userId, "roles_changed", actor.meta, deps.now(), { actorId: actor.id, reason, detail: roles.join(",") });
    return updated;
  });
}

/** What `npm run admin -- grant|revoke` reports. */
export interface RoleChange {
  email: string;
  roles: Role[];
  changed: boolean;
}

/**
 * Grants or revokes one role of the user with this email, from the command
 * line (the audit entry has no actor and the reason `npm run admin`).
 * NOT_FOUND for an unknown email; LAST_ADMIN as for `admin.setRoles`.
 */
export async function grantRole(
  deps: Pick<AuthDeps, "prisma" | "now">,
  email: string,
  role: Role,
  grant: boolean,
): Promise<RoleChange> {
  const user = await deps.prisma.user.findUnique({ where: { email: email.trim().toLowerCase() }, select: { id: true, roles: true } });
  if (!user) throw appError("NOT_FOUND", { message: `No user with the email ${email}` });
  const updated = await changeRoles(
    deps,
    user.id,
    (current) => normaliseRoles(grant ? [...current, role] : current.filter((r) => r !== role)),
    { id: null, meta: { ip: null, userAgent: null } },
    "npm run admin",
  );
  return { email: updated.email, roles: normaliseRoles(updated.roles), changed: updated.roles.join() !== user.roles.join() };
}
