/**
 * The permission catalogue and the builder that enforces it: `auth.me` reports
 * roles and permissions, `adminProcedure(permission)` answers FORBIDDEN without
 * it, and roles are read on every request (a change applies on the next call
 * of a token issued before it).
 */
import { describe, expect, it } from "vitest";
import { createContextInner } from "../server/context.ts";
import type { Database } from "../server/db/database.ts";
import { PERMISSIONS, ROLES, isPrivileged, permissionsOf } from "../server/admin/permissions.ts";
import type { Services } from "../server/services.ts";
import { adminProcedure, createCallerFactory, router } from "../server/trpc.ts";
import { callerFor, newAccount } from "./helpers/caller.ts";
import { expectTRPCError } from "./helpers/errors.ts";
import { useServices } from "./helpers/services.ts";

let db: Database;
let services: Services;

useServices({}, (fresh) => ({ db, services } = fresh));

/** A router of one procedure per permission, each answering its own name. */
const probe = router({
  read: adminProcedure("users:read").query(() => "read"),
  write: adminProcedure("users:write").mutation(() => "write"),
  audit: adminProcedure("audit:read").query(() => "audit"),
});
const probeCaller = (token: string) =>
  createCallerFactory(probe)(createContextInner({ services, authorization: `Bearer ${token}`, meta: { ip: "127.0.0.1" } }));

async function signedUp(roles: string[] = []) {
  const { accessToken, user } = await callerFor(services).auth.register(newAccount());
  await db.prisma.user.update({ where: { id: user.id }, data: { roles } });
  return { token: accessToken, userId: user.id };
}

describe("the permission catalogue", () => {
  it("maps admin to every permission and support to users:read and audit:read", () => {
    expect(permissionsOf(["admin"])).toEqual(["users:read", "users:write", "users:impersonate", "audit:read", "webhooks:manage"]);
    expect(permissionsOf(["support"])).toEqual(["users:read", "audit:read"]);
    expect(permissionsOf(["support", "admin"])).toEqual([...PERMISSIONS]);
    expect(Object.keys(ROLES)).toEqual(["admin", "support"]);
  });

  it("grants nothing for no role, an unknown role or an inherited property name", () => {
    expect(permissionsOf([])).toEqual([]);
    expect(permissionsOf(["superuser", "constructor", "__proto__", "toString"])).toEqual([]);
  });

  it("counts admin and support as privileged (they hold users:*), and no role as not", () => {
    expect([isPrivileged(["admin"]), isPrivileged(["support"]), isPrivileged([]), isPrivileged(["gone"])]).toEqual([true, true, false, false]);
  });
});

describe("auth.me", () => {
  it("answers a plain user's empty roles and permissions, and no impersonator", async () => {
    const { token } = await signedUp();
    const me = await callerFor(services, { token }).auth.me();
    expect({ roles: me.roles, permissions: me.permissions, impersonatedBy: me.impersonatedBy }).toEqual({
      roles: [],
      permissions: [],
      impersonatedBy: null,
    });
  });

  it("answers a support user's roles and the permissions they grant", async () => {
    const { token } = await signedUp(["support"]);
    const me = await callerFor(services, { token }).auth.me();
    expect({ roles: me.roles, permissions: me.permissions }).toEqual({ roles: ["support"], permissions: ["users:read", "audit:read"] });
  });
});

describe("adminProcedure(permission)", () => {
  it("answers FORBIDDEN to a user without the permission", async () => {
    const { token } = await signedUp();
    await expectTRPCError(probeCaller(token).read(), "FORBIDDEN", "FORBIDDEN");
    await expectTRPCError(probeCaller(token).write(), "FORBIDDEN", "FORBIDDEN");
  });

  it("lets support read and refuses it writes", async () => {
    const { token } = await signedUp(["support"]);
    expect(await probeCaller(token).read()).toBe("read");
    expect(await probeCaller(token).audit()).toBe("audit");
    await expectTRPCError(probeCaller(token).write(), "FORBIDDEN", "FORBIDDEN");
  });

  it("still requires a valid bearer token first", async () => {
    await expectTRPCError(createCallerFactory(probe)(createContextInner({ services })).read(), "UNAUTHORIZED", "TOKEN_MISSING");
  });

  it("applies a role granted after the token was issued on the next call", async () => {
    const { token, userId } = await signedUp();
    await expectTRPCError(probeCaller(token).write(), "FORBIDDEN", "FORBIDDEN");
    await db.prisma.user.update({ where: { id: userId }, data: { roles: ["admin"] } });
    expect(await probeCaller(token).write()).toBe("write");
    expect((await callerFor(services, { token }).auth.me()).permissions).toContain("users:write");
  });

  it("stops a role removed mid-session on the next call", async () => {
    const { token, userId } = await signedUp(["admin"]);
    expect(await probeCaller(token).write()).toBe("write");
    await db.prisma.user.update({ where: { id: userId }, data: { roles: [] } });
    await expectTRPCError(probeCaller(token).write(), "FORBIDDEN", "FORBIDDEN");
    expect((await callerFor(services, { token }).auth.me()).permissions).toEqual([]);
  });

  it("grants nothing to a role the catalogue does not know", async () => {
    const { token } = await signedUp(["superuser"]);
    await expectTRPCError(probeCaller(token).read(), "FORBIDDEN", "FORBIDDEN");
  });

  it("declares its permission as the procedure's meta", () => {
    expect(probe._def.procedures.write._def.meta).toEqual({ permission: "users:write" });
  });
});
