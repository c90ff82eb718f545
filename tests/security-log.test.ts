/**
 * Review item 4: every auth decision writes one structured line with a
 * stable `event` (docs/security.md), and security history outlives account
 * deletion as an audit record with the personal data removed. The attack
 * runs of the review, replayed over real HTTP, and read back from the log.
 */
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { accountPseudonym } from "../server/audit/events.ts";
import { emailHash } from "../server/audit/security-log.ts";
import type { Database } from "../server/db/database.ts";
import type { Services } from "../server/services.ts";
import { callerFor, newAccount } from "./helpers/caller.ts";
import { onPostgres, openTestDatabase, resetDatabase } from "./helpers/database.ts";
import { expectTRPCError } from "./helpers/errors.ts";
import { dataOf, expectError, mutate, query } from "./helpers/http.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { captureLog, type CapturedLog } from "./helpers/log.ts";
import { TestClock, testServices } from "./helpers/services.ts";

let db: Database;
let captured: CapturedLog;
let services: Services;
let base: string;
const clock = new TestClock();

beforeAll(async () => {
  db = await openTestDatabase();
  captured = captureLog("info");
  services = await testServices(db, { log: captured.log, clock, env: { LOGIN_MAX_FAILURES: "3", AUTH_RATE_LIMIT_PER_MINUTE: "1000" } });
  base = (await startTestServer(services)).url;
});

beforeEach(async () => {
  await resetDatabase(db);
});

type Line = ReturnType<CapturedLog["lines"]>[number];

/** The security lines written while `action` ran (after background work finished). */
async function decisionsOf(action: () => Promise<unknown>): Promise<Line[]> {
  const before = captured.lines().length;
  await action();
  await services.background.drain();
  return captured.lines().slice(before).filter((line) => line.security === true);
}

const WRONG = "not the password at all";
const HEADERS = { "x-request-id": "req-review-4" };

describe(`review 4: one structured line per auth decision (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("a failed login on a known email: one auth.login failure line with the user id, IP, request id and appCode", async () => {
    const account = newAccount();
    const { user } = await callerFor(services).auth.register(account);
    const lines = await decisionsOf(() => mutate(base, "auth.login", { email: account.email, password: WRONG }, { headers: HEADERS }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      event: "auth.login",
      outcome: "failure",
      appCode: "INVALID_CREDENTIALS",
      userId: user.id,
      ip: "127.0.0.1",
      requestId: "req-review-4",
      level: 40,
    });
    expect(JSON.stringify(lines[0])).not.toContain(WRONG);
  });

  it("a failed login on an unknown email: the line carries a hash of the email, never the email", async () => {
    const email = "nobody-at-all@example.com";
    const lines = await decisionsOf(() => mutate(base, "auth.login", { email, password: WRONG }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ event: "auth.login", outcome: "failure", appCode: "INVALID_CREDENTIALS", userId: null, emailHash: emailHash(email) });
    expect(JSON.stringify(lines[0])).not.toContain("nobody-at-all");
  });

  it("a lockout: the refused login is one line with RATE_LIMITED and limit=account", async () => {
    const account = newAccount();
    await callerFor(services).auth.register(account);
    for (let i = 0; i < 3; i++) await mutate(base, "auth.login", { email: account.email, password: WRONG });
    const lines = await decisionsOf(() => mutate(base, "auth.login", account));
    expect(lines.map((l) => [l.event, l.outcome, l.appCode, l.limit])).toEqual([["auth.login", "failure", "RATE_LIMITED", "account"]]);
  });

  it("a per-IP rate-limit refusal: one line with RATE_LIMITED and limit=ip", async () => {
    const limited = await testServices(db, { log: captured.log, env: { AUTH_RATE_LIMIT_PER_MINUTE: "1" } });
    const url = (await startTestServer(limited)).url;
    await mutate(url, "auth.login", { email: "a@example.com", password: WRONG });
    const lines = await decisionsOf(() => mutate(url, "auth.login", { email: "a@example.com", password: WRONG }));
    expect(lines.map((l) => [l.event, l.appCode, l.limit, l.emailHash])).toEqual([["auth.login", "RATE_LIMITED", "ip", emailHash("a@example.com")]]);
  });

  it("a refresh replay: one auth.refresh line with REFRESH_TOKEN_REUSED and the user id", async () => {
    const auth = dataOf(await mutate(base, "auth.register", newAccount()));
    await mutate(base, "auth.refresh", { refreshToken: auth.refreshToken });
    // Past REFRESH_REUSE_GRACE (10 s): inside it a replay is answered with the same successor.
    clock.advance(11);
    const lines = await decisionsOf(() => mutate(base, "auth.refresh", { refreshToken: auth.refreshToken }));
    expect(lines.map((l) => [l.event, l.outcome, l.appCode, l.userId])).toEqual([["auth.refresh", "failure", "REFRESH_TOKEN_REUSED", auth.user.id]]);
  });

  it("a password change and an account deletion: one success line each, with the user id", async () => {
    const account = newAccount();
    const auth = dataOf(await mutate(base, "auth.register", account));
    const changed = await decisionsOf(async () =>
      dataOf(await mutate(base, "auth.changePassword", { currentPassword: account.password, newPassword: "another long passphrase" }, { token: auth.accessToken })),
    );
    expect(changed.map((l) => [l.event, l.outcome, l.userId])).toEqual([["auth.changePassword", "success", auth.user.id]]);
    const login = dataOf(await mutate(base, "auth.login", { email: account.email, password: "another long passphrase" }));
    const deleted = await decisionsOf(() => mutate(base, "auth.deleteAccount", { password: "another long passphrase" }, { token: login.accessToken }));
    expect(deleted.map((l) => [l.event, l.outcome, l.userId])).toEqual([["auth.deleteAccount", "success", auth.user.id]]);
  });

  it("a refused access token on a query: one access.denied line with its appCode", async () => {
    const auth = dataOf(await mutate(base, "auth.register", newAccount()));
    clock.advance(16 * 60);
    const lines = await decisionsOf(async () => expectError(await query(base, "auth.me", undefined, { token: auth.accessToken }), 401, "TOKEN_EXPIRED"));
    expect(lines.map((l) => [l.event, l.outcome, l.appCode])).toEqual([["access.denied", "failure", "TOKEN_EXPIRED"]]);
  });

  it("the per-request line carries the client IP, the user and the appCode", async () => {
    const auth = dataOf(await mutate(base, "auth.register", newAccount()));
    const before = captured.lines().length;
    await query(base, "auth.me", undefined, { token: auth.accessToken });
    await query(base, "auth.me", undefined, { token: "not.a.token" });
    const requests = captured.lines().slice(before).filter((l) => l.msg === "request");
    expect(requests.map((l) => [l.ip, l.userId, l.appCode])).toEqual([
      ["127.0.0.1", auth.user.id, null],
      ["127.0.0.1", null, "TOKEN_INVALID"],
    ]);
  });

  it("a batch of three logins writes three lines, one per call", async () => {
    const emails = [0, 1, 2].map((i) => `b${i}@example.com`);
    const lines = await decisionsOf(async () => {
      const res = await fetch(`${base}/trpc/auth.login,auth.login,auth.login?batch=1`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(Object.fromEntries(emails.map((email, i) => [i, { json: { email, password: WRONG } }]))),
      });
      expect(res.status).toBe(401);
    });
    // The calls of a batch run concurrently: their lines come in any order.
    expect(lines.map((l) => l.emailHash).sort()).toEqual(emails.map(emailHash).sort());
    expect(lines.every((l) => l.event === "auth.login" && l.appCode === "INVALID_CREDENTIALS")).toBe(true);
  });
});

describe(`review 4: security history outlives account deletion (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("keeps the deleted account's events with the user reference cleared, IP and user agent removed, and a pseudonym", async () => {
    const account = newAccount();
    const caller = callerFor(services, { ip: "203.0.113.9", userAgent: "Firefox" });
    const auth = await caller.auth.register(account);
    await expectTRPCError(caller.auth.login({ email: account.email, password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    await services.background.drain();
    await callerFor(services, { token: auth.accessToken }).auth.deleteAccount({ password: account.password });

    expect(await db.prisma.user.count()).toBe(0);
    const events = await db.prisma.authEvent.findMany({ orderBy: [{ at: "asc" }, { id: "asc" }] });
    expect(events.map((e) => e.type)).toEqual(["register", "login_failed", "account_deleted"]);
    for (const event of events) {
      expect(event).toMatchObject({ userId: null, ip: null, userAgent: null, subject: accountPseudonym(auth.user.id) });
    }
    // Nothing in the rows names the person.
    expect(JSON.stringify(events)).not.toMatch(new RegExp(`${account.email}|203\\.0\\.113\\.9|Firefox|${auth.user.id}`));
  });

  it("leaves other users' events as they were", async () => {
    const kept = newAccount();
    const keptAuth = await callerFor(services, { ip: "198.51.100.4" }).auth.register(kept);
    const gone = newAccount();
    const goneAuth = await callerFor(services).auth.register(gone);
    await callerFor(services, { token: goneAuth.accessToken }).auth.deleteAccount({ password: gone.password });
    const events = await db.prisma.authEvent.findMany({ where: { userId: keptAuth.user.id } });
    expect(events.map((e) => [e.type, e.ip, e.subject])).toEqual([["register", "198.51.100.4", null]]);
  });
});
