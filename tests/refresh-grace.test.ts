/**
 * Refresh-token rotation with the grace window (REFRESH_REUSE_GRACE), the
 * absolute session lifetime (SESSION_MAX_AGE), and stale tokens of revoked
 * sessions (server/sessions/refresh.ts). Caller-based, on the file's database
 * (PGlite, or PostgreSQL with TEST_DATABASE_URL), with a clock moved by hand.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../server/db/database.ts";
import { EnvError, parseEnv } from "../server/env.ts";
import type { Services } from "../server/services.ts";
import { callerFor, newAccount } from "./helpers/caller.ts";
import { openTestDatabase, resetDatabase } from "./helpers/database.ts";
import { expectTRPCError } from "./helpers/errors.ts";
import { TEST_SECRET, TestClock, testServices } from "./helpers/services.ts";

let db: Database;

beforeAll(async () => {
  db = await openTestDatabase();
});

beforeEach(async () => {
  await resetDatabase(db);
});

async function setup(env: Record<string, string> = {}): Promise<{ services: Services; clock: TestClock }> {
  const clock = new TestClock(new Date("2026-03-01T00:00:00Z"));
  const services = await testServices(db, { clock, env });
  afterAll(() => services.close());
  return { services, clock };
}

async function signedIn(services: Services) {
  return callerFor(services).auth.register(newAccount());
}

/** Live refresh tokens of a session: unused, unexpired, on a live session. */
async function liveHeads(sessionUserId: string, now: Date): Promise<number> {
  return db.prisma.refreshToken.count({
    where: { usedAt: null, expiresAt: { gt: now }, session: { userId: sessionUserId, revokedAt: null, expiresAt: { gt: now } } },
  });
}

describe("grace window (REFRESH_REUSE_GRACE, default 10s)", () => {
  it("answers a retired token presented again inside the window with the same successor and a fresh access token", async () => {
    const { services, clock } = await setup();
    const first = await signedIn(services);
    const rotated = await callerFor(services).auth.refresh({ refreshToken: first.refreshToken });
    clock.advance(9);
    const again = await callerFor(services).auth.refresh({ refreshToken: first.refreshToken });
    expect(again.refreshToken).toBe(rotated.refreshToken);
    expect(again.accessToken).not.toBe(rotated.accessToken);
    expect((await callerFor(services, { token: again.accessToken }).auth.me()).id).toBe(first.user.id);
    expect((await callerFor(services, { token: rotated.accessToken }).auth.me()).id).toBe(first.user.id);
    expect(await liveHeads(first.user.id, services.now())).toBe(1);
    // The successor is still single use: it rotates once, onward.
    const next = await callerFor(services).auth.refresh({ refreshToken: again.refreshToken });
    expect(next.refreshToken).not.toBe(again.refreshToken);
  });

  it("keeps one chain under 12 parallel refreshes with one token: every answer carries the same successor and every answer is usable", async () => {
    const { services } = await setup();
    const first = await signedIn(services);
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => callerFor(services).auth.refresh({ refreshToken: first.refreshToken })),
    );
    expect(new Set(answers.map((a) => a.refreshToken)).size).toBe(1);
    expect(answers[0]!.refreshToken).not.toBe(first.refreshToken);
    for (const answer of answers) expect((await callerFor(services, { token: answer.accessToken }).auth.me()).id).toBe(first.user.id);
    expect(await liveHeads(first.user.id, services.now())).toBe(1);
    // The shared successor works for the next round, again from many tabs at once.
    const second = await Promise.all(
      Array.from({ length: 6 }, () => callerFor(services).auth.refresh({ refreshToken: answers[3]!.refreshToken })),
    );
    expect(new Set(second.map((a) => a.refreshToken)).size).toBe(1);
    expect(await liveHeads(first.user.id, services.now())).toBe(1);
    expect(await db.prisma.session.count({ where: { userId: first.user.id, revokedAt: null } })).toBe(1);
  });

  it("revokes the session with REFRESH_TOKEN_REUSED when the retired token is replayed after the window", async () => {
    const { services, clock } = await setup();
    const first = await signedIn(services);
    const rotated = await callerFor(services).auth.refresh({ refreshToken: first.refreshToken });
    clock.advance(10);
    await expectTRPCError(callerFor(services).auth.refresh({ refreshToken: first.refreshToken }), "UNAUTHORIZED", "REFRESH_TOKEN_REUSED");
    await expectTRPCError(callerFor(services, { token: rotated.accessToken }).auth.me(), "UNAUTHORIZED", "SESSION_REVOKED");
    await expectTRPCError(callerFor(services).auth.refresh({ refreshToken: rotated.refreshToken }), "UNAUTHORIZED", "REFRESH_TOKEN_INVALID");
    expect(await liveHeads(first.user.id, services.now())).toBe(0);
  });

  it("treats a token two generations old as reuse, even inside its window", async () => {
    const { services } = await setup();
    const first = await signedIn(services);
    const second = await callerFor(services).auth.refresh({ refreshToken: first.refreshToken });
    const third = await callerFor(services).auth.refresh({ refreshToken: second.refreshToken });
    await expectTRPCError(callerFor(services).auth.refresh({ refreshToken: first.refreshToken }), "UNAUTHORIZED", "REFRESH_TOKEN_REUSED");
    await expectTRPCError(callerFor(services, { token: third.accessToken }).auth.me(), "UNAUTHORIZED", "SESSION_REVOKED");
  });

  it("is off with REFRESH_REUSE_GRACE=0: the first replay revokes the session", async () => {
    const { services } = await setup({ REFRESH_REUSE_GRACE: "0" });
    const first = await signedIn(services);
    const rotated = await callerFor(services).auth.refresh({ refreshToken: first.refreshToken });
    await expectTRPCError(callerFor(services).auth.refresh({ refreshToken: first.refreshToken }), "UNAUTHORIZED", "REFRESH_TOKEN_REUSED");
    await expectTRPCError(callerFor(services, { token: rotated.accessToken }).auth.me(), "UNAUTHORIZED", "SESSION_REVOKED");
    expect(await db.prisma.refreshGrace.count()).toBe(0);
  });

  it("keeps the successor only sealed, bound to the retired token, and only for the window", async () => {
    const { services, clock } = await setup();
    const first = await signedIn(services);
    const rotated = await callerFor(services).auth.refresh({ refreshToken: first.refreshToken });
    const [retiredId] = first.refreshToken.split(".");
    const [, successorSecret] = rotated.refreshToken.split(".");
    const rows = await db.prisma.refreshGrace.findMany();
    expect(rows.map((r) => r.tokenId)).toEqual([retiredId]);
    expect(rows[0]!.successorSealed).not.toContain(successorSecret!);
    expect(rows[0]!.successorSealed).toMatch(/^v1\./);
    expect(services.sealer.open(rows[0]!.successorSealed, `refresh-successor:${retiredId}`)).toBe(rotated.refreshToken);
    expect(() => services.sealer.open(rows[0]!.successorSealed, `refresh-successor:${crypto.randomUUID()}`)).toThrow();
    // After the window the next rotation anywhere sweeps it.
    clock.advance(11);
    const other = await signedIn(services);
    await callerFor(services).auth.refresh({ refreshToken: other.refreshToken });
    expect((await db.prisma.refreshGrace.findMany()).map((r) => r.tokenId)).toEqual([other.refreshToken.split(".")[0]]);
  });

  it("requires ENCRYPTION_KEY at start-up in production while the window is on, naming the variable", () => {
    const production = { NODE_ENV: "production", JWT_SECRET: TEST_SECRET, APP_URL: "https://app.example.com", DATA_DIR: ":memory:" };
    expect(() => parseEnv(production)).toThrow(EnvError);
    expect(() => parseEnv(production)).toThrow(/ENCRYPTION_KEY: required in production while REFRESH_REUSE_GRACE is on/);
    expect(parseEnv({ ...production, REFRESH_REUSE_GRACE: "0" }).refreshReuseGrace).toBe(0);
    expect(parseEnv({ ...production, ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64") }).refreshReuseGrace).toBe(10);
    expect(() => parseEnv({ REFRESH_REUSE_GRACE: "soon" })).toThrow(/REFRESH_REUSE_GRACE/);
  });
});

describe("stale refresh tokens", () => {
  it("regression (stale token confirms validity): a used refresh token of an already-revoked session answers REFRESH_TOKEN_INVALID", async () => {
    const { services, clock } = await setup();
    const first = await signedIn(services);
    const rotated = await callerFor(services).auth.refresh({ refreshToken: first.refreshToken });
    await callerFor(services, { token: rotated.accessToken }).auth.logout();
    // Inside the window and after it, the same answer as for a token that never existed.
    await expectTRPCError(callerFor(services).auth.refresh({ refreshToken: first.refreshToken }), "UNAUTHORIZED", "REFRESH_TOKEN_INVALID");
    clock.advance(60);
    await expectTRPCError(callerFor(services).auth.refresh({ refreshToken: first.refreshToken }), "UNAUTHORIZED", "REFRESH_TOKEN_INVALID");
    // And after a reuse revoked the session, a second replay does not confirm it either.
    const again = await signedIn(services);
    await callerFor(services).auth.refresh({ refreshToken: again.refreshToken });
    clock.advance(60);
    await expectTRPCError(callerFor(services).auth.refresh({ refreshToken: again.refreshToken }), "UNAUTHORIZED", "REFRESH_TOKEN_REUSED");
    await expectTRPCError(callerFor(services).auth.refresh({ refreshToken: again.refreshToken }), "UNAUTHORIZED", "REFRESH_TOKEN_INVALID");
  });
});

describe("absolute session lifetime (SESSION_MAX_AGE, default 90d)", () => {
  it("regression (sessions live forever): no refresh extends a session past SESSION_MAX_AGE", async () => {
    const { services, clock } = await setup({ REFRESH_TOKEN_TTL: "2d", SESSION_MAX_AGE: "5d" });
    const first = await signedIn(services);
    const createdAt = services.now().getTime();
    let current = first;
    for (let day = 1; day <= 4; day++) {
      clock.advance(86_400);
      current = await callerFor(services).auth.refresh({ refreshToken: current.refreshToken });
    }
    const session = await db.prisma.session.findFirstOrThrow({ where: { userId: first.user.id } });
    // Day 4 + 2d of sliding lifetime would be day 6; the absolute limit is day 5.
    expect(session.expiresAt.getTime()).toBe(createdAt + 5 * 86_400_000);
    clock.advance(86_400 - 1);
    current = await callerFor(services).auth.refresh({ refreshToken: current.refreshToken });
    expect((await callerFor(services, { token: current.accessToken }).auth.me()).id).toBe(first.user.id);
    expect((await db.prisma.session.findFirstOrThrow({ where: { userId: first.user.id } })).expiresAt.getTime()).toBe(createdAt + 5 * 86_400_000);
    clock.advance(1);
    await expectTRPCError(callerFor(services).auth.refresh({ refreshToken: current.refreshToken }), "UNAUTHORIZED", "REFRESH_TOKEN_INVALID");
    await expectTRPCError(callerFor(services, { token: current.accessToken }).auth.me(), "UNAUTHORIZED", "SESSION_REVOKED");
  });

  it("defaults to 90 days and caps a new session's first expiry too", async () => {
    expect(parseEnv({}).sessionMaxAge).toBe(90 * 86_400);
    const { services } = await setup({ REFRESH_TOKEN_TTL: "30d", SESSION_MAX_AGE: "1d" });
    const first = await signedIn(services);
    const session = await db.prisma.session.findFirstOrThrow({ where: { userId: first.user.id } });
    expect(session.expiresAt.getTime()).toBe(services.now().getTime() + 86_400_000);
  });
});
