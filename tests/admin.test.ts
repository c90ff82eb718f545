/**
 * The admin procedures through createCaller (the whole middleware chain):
 * listing, detail, roles with LAST_ADMIN, disabling, sessions, deletion,
 * impersonation and the audit trail, with the audit entry of each change.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { accountPseudonym } from "../server/audit/events.ts";
import type { Database } from "../server/db/database.ts";
import type { Services } from "../server/services.ts";
import { userWithRoles } from "./helpers/admin.ts";
import { callerFor, newAccount, signedIn } from "./helpers/caller.ts";
import { onPostgres } from "./helpers/database.ts";
import { expectTRPCError } from "./helpers/errors.ts";
import { type TestClock, useServices } from "./helpers/services.ts";

let db: Database;
let services: Services;
let clock: TestClock;

useServices({ start: "2026-06-01T00:00:00Z" }, (fresh) => ({ db, services, clock } = fresh));

/** The audit entries of a user, oldest first, as [type, actorId]. */
async function entries(userId: string) {
  const rows = await db.prisma.authEvent.findMany({ where: { userId }, orderBy: [{ at: "asc" }, { id: "asc" }] });
  return rows.map((row) => [row.type, row.actorId]);
}

describe(`admin.listUsers (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("pages through every user newest first with a cursor, and says when it is done", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const others = [];
    for (let i = 0; i < 6; i++) others.push((await userWithRoles(services)).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await admin.caller.admin.listUsers({ limit: 3, cursor });
      seen.push(...page.items.map((u) => u.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor !== undefined);
    // Newest first is id order (UUIDv7 ids are time-ordered), descending.
    expect(seen).toEqual([...others, admin.id].sort().reverse());
    expect(pages).toBe(3);
  });

  it("is stable under concurrent inserts: no user is skipped or shown twice", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const before: string[] = [admin.id];
    for (let i = 0; i < 9; i++) before.push((await userWithRoles(services, [], { email: `stable${i}@example.com` })).id);
    for (const query of [undefined, "stable"]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let inserted = 0;
      do {
        const page = await admin.caller.admin.listUsers({ limit: 2, cursor, query });
        seen.push(...page.items.map((u) => u.id));
        cursor = page.nextCursor ?? undefined;
        // New users arrive between pages, in the middle of the email order too.
        await userWithRoles(services, [], { email: `stable${inserted++}-new-${query ?? "all"}@example.com` });
      } while (cursor !== undefined);
      expect(new Set(seen).size).toBe(seen.length);
      const expected = query === undefined ? before : before.slice(1);
      expect(seen).toEqual(expect.arrayContaining(expected));
    }
  });

  it("searches by email prefix in any case, in email order", async () => {
    const admin = await userWithRoles(services, ["admin"], { email: "root@example.com" });
    await userWithRoles(services, [], { email: "bob@example.com" });
    await userWithRoles(services, [], { email: "alice@example.com" });
    await userWithRoles(services, [], { email: "ALBERT@example.com" });
    await userWithRoles(services, [], { email: "al_ice@example.com" });
    const emails = async (query: string) => (await admin.caller.admin.listUsers({ query })).items.map((u) => u.email);
    expect(await emails("AL")).toEqual(["al_ice@example.com", "albert@example.com", "alice@example.com"]);
    expect(await emails("ali")).toEqual(["alice@example.com"]);
    // `_` and `%` are characters, not patterns.
    expect(await emails("al_")).toEqual(["al_ice@example.com"]);
    expect(await emails("%")).toEqual([]);
    expect(await emails("bob@example.com")).toEqual(["bob@example.com"]);
    expect(await emails("zz")).toEqual([]);
  });

  it("filters by role and by status", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const support = await userWithRoles(services, ["support"]);
    const plain = await userWithRoles(services);
    await admin.caller.admin.disableUser({ userId: plain.id, reason: "spam" });
    const ids = async (input: Parameters<typeof admin.caller.admin.listUsers>[0]) => (await admin.caller.admin.listUsers(input)).items.map((u) => u.id);
    expect(await ids({ role: "support" })).toEqual([support.id]);
    expect(await ids({ role: "admin" })).toEqual([admin.id]);
    expect(await ids({ status: "disabled" })).toEqual([plain.id]);
    expect(await ids({ status: "active" })).toEqual([support.id, admin.id]);
  });

  it("answers AdminUser rows: roles, status and last sign-in, never a hash", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const { account, id } = await userWithRoles(services);
    signedIn(await callerFor(services).auth.login(account));
    const [row] = (await admin.caller.admin.listUsers({ query: account.email })).items;
    expect(Object.keys(row!).sort()).toEqual(
      ["createdAt", "disabledAt", "disabledReason", "email", "emailVerified", "id", "lastLoginAt", "name", "roles", "twoFactorEnabled"].sort(),
    );
    expect(row).toMatchObject({ id, roles: [], disabledAt: null, lastLoginAt: clock.now() });
  });

  it("refuses a cursor it did not make, one from the other order, and a limit over 100", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    await userWithRoles(services);
    const idCursor = (await admin.caller.admin.listUsers({ limit: 1 })).nextCursor!;
    await expectTRPCError(admin.caller.admin.listUsers({ cursor: "garbage" }), "BAD_REQUEST", "VALIDATION_FAILED");
    await expectTRPCError(admin.caller.admin.listUsers({ cursor: idCursor, query: "a" }), "BAD_REQUEST", "VALIDATION_FAILED");
    await expectTRPCError(admin.caller.admin.listUsers({ limit: 101 }), "BAD_REQUEST", "VALIDATION_FAILED");
    await expectTRPCError(admin.caller.admin.listUsers({ query: "ünï" }), "BAD_REQUEST", "VALIDATION_FAILED");
  });
});

describe("admin.getUser", () => {
  it("answers the user with its live sessions and its audit entries", async () => {
    const admin = await userWithRoles(services, ["support"]);
    const target = await userWithRoles(services);
    signedIn(await callerFor(services).auth.login(target.account));
    const detail = await admin.caller.admin.getUser({ userId: target.id });
    expect(detail.id).toBe(target.id);
    expect(detail.sessions).toHaveLength(2);
    expect(detail.sessions.every((s) => !s.current)).toBe(true);
    expect(detail.events.map((e) => e.type)).toEqual(["login", "register"]);
    expect(detail.events[0]).toMatchObject({ targetId: target.id, actorId: null });
  });

  it("answers NOT_FOUND for an unknown user and VALIDATION_FAILED for a malformed id", async () => {
    const admin = await userWithRoles(services, ["support"]);
    await expectTRPCError(admin.caller.admin.getUser({ userId: randomUUID() }), "NOT_FOUND", "NOT_FOUND");
    await expectTRPCError(admin.caller.admin.getUser({ userId: "1 OR 1=1" }), "BAD_REQUEST", "VALIDATION_FAILED");
  });
});

describe("admin.setRoles", () => {
  it("sets roles in catalogue order, once each, and records who did it", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const target = await userWithRoles(services);
    const updated = await admin.caller.admin.setRoles({ userId: target.id, roles: ["support", "admin", "support"] });
    expect(updated.roles).toEqual(["admin", "support"]);
    const [entry] = await admin.caller.admin.audit({ userId: target.id, type: "roles_changed" });
    expect(entry).toMatchObject({ actorId: admin.id, targetId: target.id, detail: "admin,support", ip: "127.0.0.1" });
    expect((await target.caller.auth.me()).permissions).toContain("users:impersonate");
  });

  it("refuses an unknown role with VALIDATION_FAILED and changes nothing", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const target = await userWithRoles(services);
    // @ts-expect-error the catalogue has no such role
    await expectTRPCError(admin.caller.admin.setRoles({ userId: target.id, roles: ["root"] }), "BAD_REQUEST", "VALIDATION_FAILED");
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: target.id } })).roles).toEqual([]);
  });

  it("answers LAST_ADMIN to the last admin removing its own admin role, writing no entry", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const before = await entries(admin.id);
    await expectTRPCError(admin.caller.admin.setRoles({ userId: admin.id, roles: ["support"] }), "CONFLICT", "LAST_ADMIN");
    expect((await admin.caller.auth.me()).roles).toEqual(["admin"]);
    expect(await entries(admin.id)).toEqual(before);
  });

  it("lets one of two admins demote the other, then not itself", async () => {
    const first = await userWithRoles(services, ["admin"]);
    const second = await userWithRoles(services, ["admin"]);
    expect((await first.caller.admin.setRoles({ userId: second.id, roles: [] })).roles).toEqual([]);
    await expectTRPCError(first.caller.admin.setRoles({ userId: first.id, roles: [] }), "CONFLICT", "LAST_ADMIN");
  });

  it("two admins demoting each other at once: exactly one succeeds, one admin is left", async () => {
    const first = await userWithRoles(services, ["admin"]);
    const second = await userWithRoles(services, ["admin"]);
    const results = await Promise.allSettled([
      first.caller.admin.setRoles({ userId: second.id, roles: [] }),
      second.caller.admin.setRoles({ userId: first.id, roles: [] }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await db.prisma.user.count({ where: { roles: { has: "admin" } } })).toBe(1);
  });
});

describe("admin.disableUser / enableUser", () => {
  it("revokes every session at once: the user's next call fails", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const target = await userWithRoles(services);
    const other = signedIn(await callerFor(services).auth.login(target.account));
    const disabled = await admin.caller.admin.disableUser({ userId: target.id, reason: "chargeback fraud" });
    expect(disabled).toMatchObject({ disabledAt: clock.now(), disabledReason: "chargeback fraud" });
    await expectTRPCError(target.caller.auth.me(), "UNAUTHORIZED", "SESSION_REVOKED");
    await expectTRPCError(callerFor(services, { token: other.accessToken }).auth.sessions(), "UNAUTHORIZED", "SESSION_REVOKED");
    expect(await db.prisma.session.count({ where: { userId: target.id, revokedAt: null } })).toBe(0);
  });

  it("sign-in answers ACCOUNT_DISABLED only after the right password; refresh is refused", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const target = await userWithRoles(services);
    await admin.caller.admin.disableUser({ userId: target.id, reason: "abuse" });
    await expectTRPCError(callerFor(services).auth.login({ ...target.account, password: "not the password" }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    await expectTRPCError(callerFor(services).auth.login(target.account), "FORBIDDEN", "ACCOUNT_DISABLED");
    await expectTRPCError(callerFor(services).auth.refresh({ refreshToken: target.refreshToken }), "UNAUTHORIZED", "REFRESH_TOKEN_INVALID");
    expect(await db.prisma.session.count({ where: { userId: target.id, revokedAt: null } })).toBe(0);
  });

  it("records the disabling with its actor and reason, and enabling lets the user sign in again", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const target = await userWithRoles(services);
    await admin.caller.admin.disableUser({ userId: target.id, reason: "abuse" });
    // Disabling a disabled account changes nothing.
    await admin.caller.admin.disableUser({ userId: target.id, reason: "again" });
    const enabled = await admin.caller.admin.enableUser({ userId: target.id, reason: "appeal granted" });
    expect(enabled).toMatchObject({ disabledAt: null, disabledReason: null });
    signedIn(await callerFor(services).auth.login(target.account));
    const trail = await admin.caller.admin.audit({ userId: target.id });
    expect(trail.filter((e) => e.actorId !== null).map((e) => [e.type, e.actorId, e.reason])).toEqual([
      ["account_enabled", admin.id, "appeal granted"],
      ["account_disabled", admin.id, "abuse"],
    ]);
  });

  it("answers LAST_ADMIN for the last active admin, and refuses an empty reason", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    await expectTRPCError(admin.caller.admin.disableUser({ userId: admin.id, reason: "oops" }), "CONFLICT", "LAST_ADMIN");
    await expectTRPCError(admin.caller.admin.disableUser({ userId: admin.id, reason: "   " }), "BAD_REQUEST", "VALIDATION_FAILED");
    expect((await admin.caller.auth.me()).id).toBe(admin.id);
  });
});

describe("admin.revokeSessions and admin.deleteUser", () => {
  it("revokeSessions ends every live session and says how many", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const target = await userWithRoles(services);
    signedIn(await callerFor(services).auth.login(target.account));
    expect(await admin.caller.admin.revokeSessions({ userId: target.id })).toEqual({ revoked: 2 });
    await expectTRPCError(target.caller.auth.me(), "UNAUTHORIZED", "SESSION_REVOKED");
    expect(await admin.caller.admin.revokeSessions({ userId: target.id })).toEqual({ revoked: 0 });
    await expectTRPCError(admin.caller.admin.revokeSessions({ userId: randomUUID() }), "NOT_FOUND", "NOT_FOUND");
  });

  it("deleteUser removes the user; its audit entries stay, found by its old id", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const target = await userWithRoles(services);
    expect(await admin.caller.admin.deleteUser({ userId: target.id, reason: "GDPR request #42" })).toEqual({ success: true });
    await expectTRPCError(target.caller.auth.me(), "UNAUTHORIZED", "SESSION_REVOKED");
    expect(await db.prisma.user.count({ where: { id: target.id } })).toBe(0);
    const trail = await admin.caller.admin.audit({ userId: target.id });
    expect(trail.map((e) => e.type)).toEqual(["account_deleted", "register"]);
    expect(trail[0]).toMatchObject({ actorId: admin.id, targetId: null, subject: accountPseudonym(target.id), reason: "GDPR request #42" });
    await expectTRPCError(admin.caller.admin.deleteUser({ userId: target.id, reason: "again" }), "NOT_FOUND", "NOT_FOUND");
  });

  it("auth.deleteAccount answers LAST_ADMIN to the last active admin, and works for another admin", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    await expectTRPCError(admin.caller.auth.deleteAccount({ password: admin.account.password }), "CONFLICT", "LAST_ADMIN");
    expect(await db.prisma.user.count({ where: { id: admin.id } })).toBe(1);
    const second = await userWithRoles(services, ["admin"]);
    expect(await second.caller.auth.deleteAccount({ password: second.account.password })).toEqual({ success: true });
  });

  it("deleteUser answers LAST_ADMIN for the last active admin", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    await expectTRPCError(admin.caller.admin.deleteUser({ userId: admin.id, reason: "leaving" }), "CONFLICT", "LAST_ADMIN");
    expect(await db.prisma.user.count({ where: { id: admin.id } })).toBe(1);
  });
});

describe("admin.impersonate", () => {
  it("opens a 15-minute session without a usable refresh token, shown in auth.me", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const target = await userWithRoles(services);
    const session = await admin.caller.admin.impersonate({ userId: target.id, reason: "ticket #7: cannot see invoices" });
    expect(session).toMatchObject({ refreshToken: "", tokenType: "Bearer", expiresIn: 900, user: { id: target.id } });
    const as = callerFor(services, { token: session.accessToken });
    const me = await as.auth.me();
    expect(me).toMatchObject({ id: target.id, permissions: [], impersonatedBy: { id: admin.id, email: admin.account.email } });
    await expectTRPCError(callerFor(services).auth.refresh({ refreshToken: session.refreshToken }), "BAD_REQUEST", "VALIDATION_FAILED");
    clock.advance(15 * 60);
    await expectTRPCError(as.auth.me(), "UNAUTHORIZED", "SESSION_REVOKED");
  });

  it("audits every call made in it under the actor", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const target = await userWithRoles(services);
    const { accessToken } = await admin.caller.admin.impersonate({ userId: target.id, reason: "support" });
    const as = callerFor(services, { token: accessToken });
    await as.auth.me();
    await as.auth.sessions();
    await as.user.updateProfile({ name: "Changed By Support" });
    const calls = await admin.caller.admin.audit({ actorId: admin.id, type: "impersonated_call" });
    expect(calls.map((e) => [e.detail, e.targetId, e.actorId])).toEqual([
      ["user.updateProfile", target.id, admin.id],
      ["auth.sessions", target.id, admin.id],
      ["auth.me", target.id, admin.id],
    ]);
    const [started] = await admin.caller.admin.audit({ type: "impersonation_started" });
    expect(started).toMatchObject({ actorId: admin.id, targetId: target.id, reason: "support" });
    // The user's own activity shows that it happened, not every call.
    expect((await target.caller.auth.activity()).map((e) => e.type)).toEqual(["impersonation_started", "register"]);
  });

  it("cannot reach admin procedures, impersonate, change roles or credentials", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const target = await userWithRoles(services);
    const other = await userWithRoles(services);
    const { accessToken } = await admin.caller.admin.impersonate({ userId: target.id, reason: "support" });
    const as = callerFor(services, { token: accessToken });
    await expectTRPCError(as.admin.listUsers({}), "FORBIDDEN", "FORBIDDEN");
    await expectTRPCError(as.admin.impersonate({ userId: other.id, reason: "chain" }), "FORBIDDEN", "FORBIDDEN");
    await expectTRPCError(as.admin.setRoles({ userId: target.id, roles: ["admin"] }), "FORBIDDEN", "FORBIDDEN");
    await expectTRPCError(as.auth.changePassword({ currentPassword: target.account.password, newPassword: "another long passphrase 9" }), "FORBIDDEN", "FORBIDDEN");
    await expectTRPCError(as.auth.deleteAccount({ password: target.account.password }), "FORBIDDEN", "FORBIDDEN");
    await expectTRPCError(as.passkey.registrationOptions(), "FORBIDDEN", "FORBIDDEN");
    await expectTRPCError(as.mfa.totpSetup({ password: target.account.password }), "FORBIDDEN", "FORBIDDEN");
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: target.id } })).roles).toEqual([]);
  });

  it("is refused for admin and support targets, oneself, disabled and unknown users", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const otherAdmin = await userWithRoles(services, ["admin"]);
    const support = await userWithRoles(services, ["support"]);
    const disabled = await userWithRoles(services);
    await admin.caller.admin.disableUser({ userId: disabled.id, reason: "abuse" });
    const sessionsBefore = await db.prisma.session.count();
    await expectTRPCError(admin.caller.admin.impersonate({ userId: otherAdmin.id, reason: "x" }), "FORBIDDEN", "FORBIDDEN");
    await expectTRPCError(admin.caller.admin.impersonate({ userId: support.id, reason: "x" }), "FORBIDDEN", "FORBIDDEN");
    await expectTRPCError(admin.caller.admin.impersonate({ userId: admin.id, reason: "x" }), "FORBIDDEN", "FORBIDDEN");
    await expectTRPCError(admin.caller.admin.impersonate({ userId: disabled.id, reason: "x" }), "FORBIDDEN", "ACCOUNT_DISABLED");
    await expectTRPCError(admin.caller.admin.impersonate({ userId: randomUUID(), reason: "x" }), "NOT_FOUND", "NOT_FOUND");
    expect(await db.prisma.session.count()).toBe(sessionsBefore);
  });

  it("needs users:impersonate: support cannot", async () => {
    const support = await userWithRoles(services, ["support"]);
    const target = await userWithRoles(services);
    await expectTRPCError(support.caller.admin.impersonate({ userId: target.id, reason: "x" }), "FORBIDDEN", "FORBIDDEN");
  });
});

describe("admin.audit", () => {
  it("answers every user's events and admin actions newest first, filtered by user, actor, type and time", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const a = await userWithRoles(services);
    clock.advance(60);
    const b = await userWithRoles(services);
    clock.advance(60);
    await admin.caller.admin.revokeSessions({ userId: a.id });
    const all = await admin.caller.admin.audit({});
    expect(all.map((e) => [e.type, e.targetId])).toEqual([
      ["sessions_revoked", a.id],
      ["register", b.id],
      ["register", a.id],
      ["roles_changed", admin.id],
      ["register", admin.id],
    ]);
    expect((await admin.caller.admin.audit({ userId: a.id })).map((e) => e.type)).toEqual(["sessions_revoked", "register"]);
    expect((await admin.caller.admin.audit({ actorId: admin.id })).map((e) => e.type)).toEqual(["sessions_revoked"]);
    expect((await admin.caller.admin.audit({ type: "register", limit: 2 })).map((e) => e.targetId)).toEqual([b.id, a.id]);
    expect((await admin.caller.admin.audit({ before: new Date(clock.now().getTime() - 30_000) })).map((e) => e.targetId)).toEqual([
      b.id,
      a.id,
      admin.id,
      admin.id,
    ]);
  });

  it("lets support read the audit trail but not act", async () => {
    const support = await userWithRoles(services, ["support"]);
    const target = await userWithRoles(services);
    expect((await support.caller.admin.audit({ userId: target.id })).map((e) => e.type)).toEqual(["register"]);
    await expectTRPCError(support.caller.admin.disableUser({ userId: target.id, reason: "x" }), "FORBIDDEN", "FORBIDDEN");
    await expectTRPCError(support.caller.admin.deleteUser({ userId: target.id, reason: "x" }), "FORBIDDEN", "FORBIDDEN");
    await expectTRPCError(support.caller.admin.revokeSessions({ userId: target.id }), "FORBIDDEN", "FORBIDDEN");
    await expectTRPCError(support.caller.admin.setRoles({ userId: target.id, roles: ["support"] }), "FORBIDDEN", "FORBIDDEN");
    await expectTRPCError(support.caller.admin.enableUser({ userId: target.id, reason: "x" }), "FORBIDDEN", "FORBIDDEN");
  });
});
