/** register, login, refresh, logout, logoutAll, me, sessions, revokeSession, health — through createCaller. */
import { describe, expect, it } from "vitest";
import type { Database } from "../server/db/database.ts";
import type { Services } from "../server/services.ts";
import { callerFor, newAccount, signedIn } from "./helpers/caller.ts";
import { expectTRPCError } from "./helpers/errors.ts";
import { type TestClock, useServices } from "./helpers/services.ts";

let db: Database;
let services: Services;
let clock: TestClock;

useServices({ start: "2026-01-01T00:00:00Z" }, (fresh) => ({ db, services, clock } = fresh));

async function registered(overrides: Parameters<typeof newAccount>[0] = {}) {
  const account = newAccount(overrides);
  const result = await callerFor(services).auth.register(account);
  return { account, result };
}

describe("auth.register", () => {
  it("creates the user, normalises the email and opens a session", async () => {
    const { result } = await registered({ email: "  Alice@Example.COM ", name: "  Alice  " });
    expect(result.tokenType).toBe("Bearer");
    expect(result.expiresIn).toBe(15 * 60);
    expect(result.user).toEqual({
      id: expect.any(String),
      email: "alice@example.com",
      name: "Alice",
      emailVerified: false,
      createdAt: expect.any(Date),
      twoFactorEnabled: false,
      roles: [],
    });
    expect(Object.keys(result.user).sort()).toEqual(["createdAt", "email", "emailVerified", "id", "name", "roles", "twoFactorEnabled"]);
    const me = await callerFor(services, { token: result.accessToken }).auth.me();
    expect(me).toEqual({ ...result.user, permissions: [], impersonatedBy: null });
  });

  it("refuses an email that exists, in any case", async () => {
    await registered({ email: "bob@example.com" });
    await expectTRPCError(
      callerFor(services).auth.register(newAccount({ email: "BOB@example.com" })),
      "CONFLICT",
      "EMAIL_TAKEN",
    );
    expect(await db.prisma.user.count()).toBe(1);
  });

  it("gives exactly one success to concurrent registrations of one email", async () => {
    const attempts = await Promise.allSettled(
      Array.from({ length: 20 }, () => callerFor(services).auth.register(newAccount({ email: "race@example.com" }))),
    );
    const won = attempts.filter((a) => a.status === "fulfilled");
    const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === "rejected");
    expect(won).toHaveLength(1);
    for (const failure of lost) expect(failure.reason).toMatchObject({ code: "CONFLICT", appCode: "EMAIL_TAKEN" });
    expect(await db.prisma.user.count({ where: { email: "race@example.com" } })).toBe(1);
  });

  it("refuses invalid input with fieldErrors and stores nothing", async () => {
    const error = await expectTRPCError(
      callerFor(services).auth.register({ email: "not-an-email", password: "short", name: "" }),
      "BAD_REQUEST",
      "VALIDATION_FAILED",
    );
    expect(error.cause).toBeDefined();
    expect(await db.prisma.user.count()).toBe(0);
  });

  it("refuses a common password and one containing the email's local part", async () => {
    await expectTRPCError(
      callerFor(services).auth.register(newAccount({ password: "password123" })),
      "BAD_REQUEST",
      "WEAK_PASSWORD",
    );
    await expectTRPCError(
      callerFor(services).auth.register(newAccount({ email: "margaret@example.com", password: "xxMargaret2024!" })),
      "BAD_REQUEST",
      "WEAK_PASSWORD",
    );
    expect(await db.prisma.user.count()).toBe(0);
  });

  it("ignores keys the input does not define", async () => {
    const input = { ...newAccount(), role: "admin", emailVerified: true, id: "00000000-0000-0000-0000-000000000000" };
    const result = await callerFor(services).auth.register(input as ReturnType<typeof newAccount>);
    expect(result.user.emailVerified).toBe(false);
    expect(result.user.id).not.toBe(input.id);
  });

  it("never stores the password, only a bcrypt hash", async () => {
    const { account, result } = await registered();
    const row = await db.prisma.user.findUniqueOrThrow({ where: { id: result.user.id } });
    expect(row.passwordHash).toMatch(/^\$2[aby]\$04\$/);
    expect(row.passwordHash).not.toContain(account.password);
  });
});

describe("auth.login", () => {
  it("logs in with the right password, case-insensitively on the email", async () => {
    const { account } = await registered({ email: "carol@example.com" });
    const result = signedIn(await callerFor(services).auth.login({ email: "CAROL@example.com ", password: account.password }));
    expect(result.user.email).toBe("carol@example.com");
    const me = await callerFor(services, { token: result.accessToken }).auth.me();
    expect(me.id).toBe(result.user.id);
  });

  it("answers unknown email and wrong password identically", async () => {
    const { account } = await registered();
    const wrong = await expectTRPCError(
      callerFor(services).auth.login({ email: account.email, password: "not the password!" }),
      "UNAUTHORIZED",
      "INVALID_CREDENTIALS",
    );
    const unknown = await expectTRPCError(
      callerFor(services).auth.login({ email: "nobody@example.com", password: "not the password!" }),
      "UNAUTHORIZED",
      "INVALID_CREDENTIALS",
    );
    expect(wrong.message).toBe(unknown.message);
  });

  it("does not trim or case-fold the password", async () => {
    const { account } = await registered({ password: "Tr1cky Passw0rd " });
    await expectTRPCError(
      callerFor(services).auth.login({ email: account.email, password: "Tr1cky Passw0rd" }),
      "UNAUTHORIZED",
      "INVALID_CREDENTIALS",
    );
    await expectTRPCError(
      callerFor(services).auth.login({ email: account.email, password: "tr1cky passw0rd " }),
      "UNAUTHORIZED",
      "INVALID_CREDENTIALS",
    );
    await callerFor(services).auth.login({ email: account.email, password: "Tr1cky Passw0rd " });
  });

  it("tells apart passwords that differ only after the 72nd byte", async () => {
    const prefix = "é".repeat(40); // 80 bytes of UTF-8
    const { account } = await registered({ password: `${prefix}-one` });
    await expectTRPCError(
      callerFor(services).auth.login({ email: account.email, password: `${prefix}-two` }),
      "UNAUTHORIZED",
      "INVALID_CREDENTIALS",
    );
    await callerFor(services).auth.login({ email: account.email, password: `${prefix}-one` });
  });

  it("opens a new session per login", async () => {
    const { account, result } = await registered();
    await callerFor(services).auth.login({ email: account.email, password: account.password });
    const sessions = await callerFor(services, { token: result.accessToken }).auth.sessions();
    expect(sessions).toHaveLength(2);
  });
});

describe("auth.refresh", () => {
  it("returns a new pair and retires the token presented", async () => {
    const { result } = await registered();
    clock.advance(60);
    const next = await callerFor(services).auth.refresh({ refreshToken: result.refreshToken });
    expect(next.refreshToken).not.toBe(result.refreshToken);
    expect(next.accessToken).not.toBe(result.accessToken);
    expect(next.user).toEqual(result.user);
    await callerFor(services, { token: next.accessToken }).auth.me();
    // The new refresh token works once as well.
    await callerFor(services).auth.refresh({ refreshToken: next.refreshToken });
  });

  it("revokes the whole session when a retired token is presented again after the grace window", async () => {
    const { result } = await registered();
    const next = await callerFor(services).auth.refresh({ refreshToken: result.refreshToken });
    clock.advance(services.config.refreshReuseGrace);
    await expectTRPCError(
      callerFor(services).auth.refresh({ refreshToken: result.refreshToken }),
      "UNAUTHORIZED",
      "REFRESH_TOKEN_REUSED",
    );
    // Both the thief's and the victim's descendants are dead.
    await expectTRPCError(
      callerFor(services).auth.refresh({ refreshToken: next.refreshToken }),
      "UNAUTHORIZED",
      "REFRESH_TOKEN_INVALID",
    );
    await expectTRPCError(
      callerFor(services, { token: next.accessToken }).auth.me(),
      "UNAUTHORIZED",
      "SESSION_REVOKED",
    );
    const types = (await db.prisma.authEvent.findMany({ orderBy: { at: "asc" } })).map((e) => e.type);
    expect(types).toContain("refresh_reused");
  });

  it("never lets two racing refreshes with one token make two chains", async () => {
    const { result } = await registered();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => callerFor(services).auth.refresh({ refreshToken: result.refreshToken })),
    );
    // Inside the grace window every racer gets the one successor (tests/refresh-grace.test.ts).
    expect(new Set(answers.map((a) => a.refreshToken)).size).toBe(1);
    const live = await db.prisma.refreshToken.count({ where: { usedAt: null, session: { userId: result.user.id, revokedAt: null } } });
    expect(live).toBe(1);
  });

  it("refuses unknown, malformed and forged tokens", async () => {
    const { result } = await registered();
    const [id] = result.refreshToken.split(".");
    for (const refreshToken of ["garbage", `${id}.${"A".repeat(43)}`, `${crypto.randomUUID()}.${"A".repeat(43)}`, "x".repeat(512)]) {
      await expectTRPCError(callerFor(services).auth.refresh({ refreshToken }), "UNAUTHORIZED", "REFRESH_TOKEN_INVALID");
    }
    // A forged secret for a real id is not mistaken for reuse: the session lives on.
    await callerFor(services).auth.refresh({ refreshToken: result.refreshToken });
  });

  it("refuses a refresh token past its lifetime", async () => {
    const { result } = await registered();
    clock.advance(30 * 86_400 + 1);
    await expectTRPCError(
      callerFor(services).auth.refresh({ refreshToken: result.refreshToken }),
      "UNAUTHORIZED",
      "REFRESH_TOKEN_INVALID",
    );
  });

  it("refuses the refresh token of a logged-out session", async () => {
    const { result } = await registered();
    await callerFor(services, { token: result.accessToken }).auth.logout();
    await expectTRPCError(
      callerFor(services).auth.refresh({ refreshToken: result.refreshToken }),
      "UNAUTHORIZED",
      "REFRESH_TOKEN_INVALID",
    );
  });

  it("stores refresh tokens only as hashes", async () => {
    const { result } = await registered();
    const secret = result.refreshToken.split(".")[1]!;
    const rows = await db.prisma.$queryRawUnsafe<Array<{ row: string }>>("SELECT row_to_json(r)::text AS row FROM refresh_tokens r");
    expect(rows.length).toBe(1);
    for (const { row } of rows) expect(row).not.toContain(secret);
  });
});

describe("auth.logout and auth.logoutAll", () => {
  it("refuses the access token from the next request on", async () => {
    const { result } = await registered();
    const caller = callerFor(services, { token: result.accessToken });
    expect(await caller.auth.logout()).toEqual({ success: true });
    await expectTRPCError(caller.auth.me(), "UNAUTHORIZED", "SESSION_REVOKED");
    await expectTRPCError(caller.auth.logout(), "UNAUTHORIZED", "SESSION_REVOKED");
  });

  it("revokes every session of the user and counts them", async () => {
    const { account, result } = await registered();
    const other = signedIn(await callerFor(services).auth.login({ email: account.email, password: account.password }));
    const stranger = await registered();
    expect(await callerFor(services, { token: result.accessToken }).auth.logoutAll()).toEqual({ revoked: 2 });
    await expectTRPCError(callerFor(services, { token: other.accessToken }).auth.me(), "UNAUTHORIZED", "SESSION_REVOKED");
    await expectTRPCError(callerFor(services, { token: result.accessToken }).auth.me(), "UNAUTHORIZED", "SESSION_REVOKED");
    await callerFor(services, { token: stranger.result.accessToken }).auth.me();
  });
});

describe("auth.sessions and auth.revokeSession", () => {
  it("lists live sessions newest first and marks the current one", async () => {
    const { account, result } = await registered();
    clock.advance(10);
    const second = signedIn(await callerFor(services, { userAgent: "phone" }).auth.login({ email: account.email, password: account.password }));
    const sessions = await callerFor(services, { token: result.accessToken }).auth.sessions();
    expect(sessions.map((s) => s.userAgent)).toEqual(["phone", "vitest"]);
    expect(sessions.map((s) => s.current)).toEqual([false, true]);
    expect(sessions[0]).toEqual({
      id: expect.any(String),
      createdAt: expect.any(Date),
      lastUsedAt: expect.any(Date),
      userAgent: "phone",
      ip: "127.0.0.1",
      current: false,
    });
    await callerFor(services, { token: second.accessToken }).auth.logout();
    expect(await callerFor(services, { token: result.accessToken }).auth.sessions()).toHaveLength(1);
  });

  it("revokes one of the caller's sessions", async () => {
    const { account, result } = await registered();
    const other = signedIn(await callerFor(services).auth.login({ email: account.email, password: account.password }));
    const target = (await callerFor(services, { token: result.accessToken }).auth.sessions()).find((s) => !s.current);
    expect(await callerFor(services, { token: result.accessToken }).auth.revokeSession({ sessionId: target!.id })).toEqual({
      success: true,
    });
    await expectTRPCError(callerFor(services, { token: other.accessToken }).auth.me(), "UNAUTHORIZED", "SESSION_REVOKED");
    await callerFor(services, { token: result.accessToken }).auth.me();
  });

  it("answers NOT_FOUND for another user's session, a revoked one, or garbage", async () => {
    const alice = await registered();
    const bob = await registered();
    const [bobSession] = await callerFor(services, { token: bob.result.accessToken }).auth.sessions();
    const caller = callerFor(services, { token: alice.result.accessToken });
    await expectTRPCError(caller.auth.revokeSession({ sessionId: bobSession!.id }), "NOT_FOUND", "NOT_FOUND");
    await expectTRPCError(caller.auth.revokeSession({ sessionId: "not-a-session" }), "NOT_FOUND", "NOT_FOUND");
    await expectTRPCError(caller.auth.revokeSession({ sessionId: crypto.randomUUID() }), "NOT_FOUND", "NOT_FOUND");
    await callerFor(services, { token: bob.result.accessToken }).auth.me();
  });
});

describe("health", () => {
  it("answers ok with the database", async () => {
    expect(await callerFor(services).health()).toEqual({ status: "ok", db: "ok" });
  });
});
