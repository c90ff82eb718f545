/**
 * The permission catalogue: every permission, and the roles that grant them,
 * declared once. Procedures name the permission they need
 * (`adminProcedure("users:write")`, server/trpc.ts); frontends get the same
 * names as types through `gatehouse/client` (`can(me, "users:write")`).
 *
 * This file imports nothing: the client's declaration bundle includes it.
 */

/** Every permission a procedure can require. */
export const PERMISSIONS = ["users:read", "users:write", "users:impersonate", "audit:read", "webhooks:manage"] as const;

export type Permission = (typeof PERMISSIONS)[number];

/** Role → the permissions it grants. A user's permissions are the union over its roles. */
export const ROLES = {
  admin: ["users:read", "users:write", "users:impersonate", "audit:read", "webhooks:manage"],
  support: ["users:read", "audit:read"],
} as const satisfies Record<string, readonly Permission[]>;

export type Role = keyof typeof ROLES;

/** The role names, in catalogue order. */
export const ROLE_NAMES = Object.keys(ROLES) as Role[];

/** Whether a string names a role of the catalogue. */
export function isRole(name: string): name is Role {
  return Object.hasOwn(ROLES, name);
}

/**
 * The permissions a set of roles grants, in catalogue order. A stored role the
 * catalogue no longer knows (removed from the code) grants nothing.
 */
export function permissionsOf(roles: readonly string[]): Permission[] {
  if (roles.length === 0) return [];
  const granted = new Set<Permission>();
  for (const role of roles) if (isRole(role)) for (const permission of ROLES[role]) granted.add(permission);
  return PERMISSIONS.filter((permission) => granted.has(permission));
}

/** Whether a role grants any `users:*` permission: such users cannot be impersonated. */
export function isPrivileged(roles: readonly string[]): boolean {
  return permissionsOf(roles).some((permission) => permission.startsWith("users:"));
}
