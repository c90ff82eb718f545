/**
 * Who may reach the admin procedures, on every way in: createCaller, tRPC
 * over HTTP (single calls and batches) and the REST bridge. A plain user gets
 * FORBIDDEN from each and changes nothing; support reads but cannot write; an
 * impersonation session reaches none; a removed role or a disabled account
 * stops working on the very next call.
 */
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { appRouter } from "../../routers/_app.ts";
import { ROLES, type Permission } from "../../server/admin/permissions.ts";
import { changeRoles } from "../../server/admin/roles.ts";
import type { Database } from "../../server/db/database.ts";
import type { ProcedureMeta } from "../../server/procedure-meta.ts";
import type { Services } from "../../server/services.ts";
import { userWithRoles } from "../helpers/admin.ts";
import { callerFor } from "../helpers/caller.ts";
import { openTestDatabase, resetDatabase } from "../helpers/database.ts";
import { expectTRPCError } from "../helpers/errors.ts";
import { startTestServer } from "../helpers/http-server.ts";
import { dataOf, expectError, query } from "../helpers/http.ts";
import { rowCounts } from "../helpers/rows.ts";
import { testServices } from "../helpers/services.ts";

type Procedure = { _def: { type: "query" | "mutation" | "subscription"; meta?: ProcedureMeta } };
const PROCEDURES = appRouter._def.procedures as unknown as Record<string, Procedure>;
/** Every admin procedure, with the permission it declares; new ones join the tests by themselves. */
const ADMIN = Object.entries(PROCEDURES)
  .filter(([path]) => path.startsWith("admin."))
  .map(([path, procedure]) => ({ path, type: procedure._def.type, permission: procedure._def.meta?.permission }));

let db: Database;
let services: Services;
let base: string;
let target: Awaited<ReturnType<typeof userWithRoles>>;

beforeAll(async () => {
  db = await openTestDatabase();
  services = await testServices(db);
  base = (await startTestServer(services)).url;
});

beforeEach(async () => {
  await resetDatabase(db);
  // An admin exists (so LAST_ADMIN is not what refuses), and a plain target.
  await userWithRoles(services, ["admin"]);
  target = await userWithRoles(services);
});

/** A valid input for each admin procedure we know; others get `{}` (the permission is checked before the input). */
function inputFor(path: string): Record<string, unknown> {
  const userId = target.id;
  const known: Record<string, Record<string, unknown>> = {
    "admin.listUsers": { limit: 10 },
    "admin.getUser": { userId },
    "admin.setRoles": { userId, roles: ["admin"] },
    "admin.disableUser": { userId, reason: "x" },
    "admin.enableUser": { userId, reason: "x" },
    "admin.revokeSessions": { userId },
    "admin.deleteUser": { userId, reason: "x" },
    "admin.impersonate": { userId, reason: "x" },
    "admin.audit": {},
  };
  return known[path] ?? {};
}

/** Calls an admin procedure through createCaller. */
function callAs(token: string, path: string): Promise<unknown> {
  const [, name] = path.split(".") as [string, string];
  const admin = callerFor(services, { token }).admin as unknown as Record<string, (input: unknown) => Promise<unknown>>;
  return admin[name]!(inputFor(path));
}

/** One tRPC batch over HTTP of the given procedures (all queries, sent as GET; or all mutations, as POST). */
async function batch(token: string, paths: string[], kind: "query" | "mutation") {
  const input = JSON.stringify(Object.fromEntries(paths.map((path, i) => [i, { json: inputFor(path) }])));
  const url = `${base}/trpc/${paths.join(",")}?batch=1${kind === "query" ? `&input=${encodeURIComponent(input)}` : ""}`;
  const res = await fetch(url, {
    method: kind === "query" ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, ...(kind === "mutation" ? { "content-type": "application/json" } : {}) },
    body: kind === "mutation" ? input : undefined,
  });
  return (await res.json()) as { error?: { json: { data: { appCode: string; httpStatus: number } } } }[];
}

/** One REST call of an admin procedure: GET with the input as query parameters, or POST with it as the body. */
async function rest(token: string, path: string, type: string) {
  const input = inputFor(path);
  const route = `${base}/api/${path.replace(".", "/")}`;
  const res =
    type === "query"
      ? await fetch(`${route}?${new URLSearchParams(Object.entries(input).map(([k, v]): [string, string] => [k, String(v)]))}`, { headers: { authorization: `Bearer ${token}` } })
      : await fetch(route, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(input) });
  return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code };
}

/** Every row count, with audit entries other than the record of impersonated calls. */
async function state() {
  const { authEvents: _all, ...counts } = await rowCounts(db);
  return { ...counts, entries: await db.prisma.authEvent.count({ where: { type: { not: "impersonated_call" } } }) };
}

/** Asserts that `token` gets FORBIDDEN from each of `paths` on every way in, and that nothing changed. */
async function expectForbiddenEverywhere(token: string, paths: string[]) {
  const before = await state();
  for (const path of paths) await expectTRPCError(callAs(token, path), "FORBIDDEN", "FORBIDDEN");
  for (const kind of ["query", "mutation"] as const) {
    const group = paths.filter((path) => PROCEDURES[path]!._def.type === kind);
    if (group.length === 0) continue;
    const answers = await batch(token, group, kind);
    expect(answers.map((a) => [a.error?.json.data.appCode, a.error?.json.data.httpStatus]), kind).toEqual(group.map(() => ["FORBIDDEN", 403]));
  }
  for (const path of paths) expect(await rest(token, path, PROCEDURES[path]!._def.type), path).toEqual({ status: 403, code: "FORBIDDEN" });
  expect(await state()).toEqual(before);
  expect(await db.prisma.user.findUniqueOrThrow({ where: { id: target.id }, select: { roles: true, disabledAt: true } })).toEqual({ roles: [], disabledAt: null });
}

describe("the admin router", () => {
  it("has only procedures that declare a permission of the catalogue", () => {
    expect(ADMIN.length).toBeGreaterThanOrEqual(9);
    for (const { path, permission } of ADMIN) expect(permission, path).toMatch(/^(users:(read|write|impersonate)|audit:read|webhooks:manage)$/);
  });
});

describe("a plain user", () => {
  it("gets FORBIDDEN from every admin procedure: createCaller, tRPC batches and REST, and changes nothing", async () => {
    const plain = await userWithRoles(services);
    await expectForbiddenEverywhere(plain.token, ADMIN.map((p) => p.path));
  });
});

describe("a support user", () => {
  it("reads users and the audit trail, and gets FORBIDDEN from every procedure needing a permission support lacks", async () => {
    const support = await userWithRoles(services, ["support"]);
    const granted = new Set<Permission>(ROLES.support);
    const reads = ADMIN.filter((p) => granted.has(p.permission!)).map((p) => p.path);
    expect(reads.sort()).toEqual(["admin.audit", "admin.getUser", "admin.listUsers"]);
    for (const path of reads) await callAs(support.token, path);
    expect(dataOf(await query(base, "admin.listUsers", { limit: 5 }, { token: support.token })).items.length).toBeGreaterThan(0);
    await expectForbiddenEverywhere(support.token, ADMIN.filter((p) => !granted.has(p.permission!)).map((p) => p.path));
  });
});

describe("an impersonation session", () => {
  it("gets FORBIDDEN from every admin procedure, even when its actor is an admin", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const { accessToken } = await admin.caller.admin.impersonate({ userId: target.id, reason: "support ticket" });
    await expectForbiddenEverywhere(accessToken, ADMIN.map((p) => p.path));
    // Each refused call is on the record under the admin.
    expect(await db.prisma.authEvent.count({ where: { type: "impersonated_call", actorId: admin.id, detail: "admin.setRoles" } })).toBe(3);
  });
});

describe("changes take effect on the next call", () => {
  it("a role removed mid-session stops working on the next request over HTTP", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    dataOf(await query(base, "admin.listUsers", {}, { token: admin.token }));
    await changeRoles(services, admin.id, () => [], { id: null, meta: { ip: null, userAgent: null } });
    expectError(await query(base, "admin.listUsers", {}, { token: admin.token }), 403, "FORBIDDEN");
    expect(dataOf(await query(base, "auth.me", undefined, { token: admin.token })).permissions).toEqual([]);
  });

  it("a disabled user's next call fails, over HTTP and REST", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const victim = await userWithRoles(services, ["support"]);
    dataOf(await query(base, "admin.listUsers", {}, { token: victim.token }));
    await admin.caller.admin.disableUser({ userId: victim.id, reason: "compromised" });
    expectError(await query(base, "auth.me", undefined, { token: victim.token }), 401, "SESSION_REVOKED");
    expect(await rest(victim.token, "admin.listUsers", "query")).toEqual({ status: 401, code: "SESSION_REVOKED" });
  });
});

describe("an admin over the REST bridge", () => {
  it("passes query parameters as typed inputs: a search with a limit, and the audit trail before an ISO time", async () => {
    const admin = await userWithRoles(services, ["admin"]);
    const get = async (path: string) => {
      const res = await fetch(`${base}/api${path}`, { headers: { authorization: `Bearer ${admin.token}` } });
      return { status: res.status, json: (await res.json()) as any };
    };
    const search = await get(`/admin/listUsers?query=${encodeURIComponent(target.account.email.toUpperCase())}&limit=5`);
    expect(search.status).toBe(200);
    expect(search.json.items.map((u: { id: string }) => u.id)).toEqual([target.id]);
    const all = await get("/admin/audit?limit=100");
    expect(all.status).toBe(200);
    const newest = all.json[0] as { at: string };
    const older = await get(`/admin/audit?before=${encodeURIComponent(newest.at)}&limit=100`);
    expect(older.status).toBe(200);
    expect(older.json.every((e: { at: string }) => e.at < newest.at)).toBe(true);
    expect(older.json.length).toBeGreaterThan(0);
    expect((await get("/admin/audit?before=yesterday")).status).toBe(400);
  });
});
