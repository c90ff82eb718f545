/**
 * The raw session lookup on the protected path (server/sessions/lookup.ts)
 * returns exactly what the Prisma query it replaced returned, on whichever
 * database the suite runs on (PGlite, or PostgreSQL with TEST_DATABASE_URL).
 */
import { randomUUID } from "node:crypto";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { findSessionWithUser } from "../server/sessions/lookup.ts";
import { resolveSession } from "../server/sessions/sessions.ts";
import { publicUserSelect } from "../server/identity/user-view.ts";
import type { Database } from "../server/db/database.ts";
import { onPostgres, openTestDatabase, resetDatabase } from "./helpers/database.ts";
import { expectTRPCError } from "./helpers/errors.ts";

let db: Database;

beforeAll(async () => {
  db = await openTestDatabase();
});

beforeEach(async () => {
  await resetDatabase(db);
});

/** The query resolveSession made through Prisma before it went raw. */
function viaPrisma(sessionId: string) {
  return db.prisma.session.findUnique({
    where: { id: sessionId },
    select: { id: true, userId: true, revokedAt: true, expiresAt: true, lastUsedAt: true, user: { select: publicUserSelect } },
  });
}

async function userWithSession(session: { revokedAt?: Date | null; expiresAt?: Date } = {}) {
  const user = await db.prisma.user.create({
    data: {
      email: `lookup-${randomUUID()}@example.com`,
      name: "Ünïcode ✓ name",
      passwordHash: "not-a-real-hash",
      emailVerified: true,
      createdAt: new Date("2026-01-02T03:04:05.678Z"),
      sessions: {
        create: {
          createdAt: new Date("2026-01-03T00:00:00.001Z"),
          lastUsedAt: new Date("2026-01-04T00:00:00.999Z"),
          expiresAt: session.expiresAt ?? new Date("2099-01-01T00:00:00.000Z"),
          revokedAt: session.revokedAt ?? null,
          ip: "127.0.0.1",
          userAgent: "vitest",
        },
      },
    },
    select: { id: true, sessions: { select: { id: true } } },
  });
  return { userId: user.id, sessionId: user.sessions[0]!.id };
}

describe(`findSessionWithUser (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("returns the same session and public user as the Prisma query", async () => {
    const { sessionId } = await userWithSession();
    const raw = await findSessionWithUser(db, sessionId);
    const prisma = await viaPrisma(sessionId);
    expect(raw).toEqual(prisma);
    // Same keys in the same order (the user is answered as it is), same types.
    expect(Object.keys(raw!.user)).toEqual(Object.keys(publicUserSelect));
    expect(raw!.user.createdAt).toBeInstanceOf(Date);
    expect(raw!.user.createdAt.toISOString()).toBe("2026-01-02T03:04:05.678Z");
    expect(raw!.lastUsedAt.toISOString()).toBe("2026-01-04T00:00:00.999Z");
    expect(typeof raw!.user.emailVerified).toBe("boolean");
  });

  it("returns revoked and expired sessions as they are (the caller decides)", async () => {
    for (const state of [{ revokedAt: new Date("2026-02-01T00:00:00.000Z") }, { expiresAt: new Date("2020-01-01T00:00:00.000Z") }]) {
      const { sessionId } = await userWithSession(state);
      expect(await findSessionWithUser(db, sessionId)).toEqual(await viaPrisma(sessionId));
    }
  });

  it("returns null for an unknown id, a deleted user, and a value that is not a UUID", async () => {
    expect(await findSessionWithUser(db, randomUUID())).toBeNull();
    const { userId, sessionId } = await userWithSession();
    await db.prisma.user.delete({ where: { id: userId } });
    expect(await findSessionWithUser(db, sessionId)).toBeNull();
    expect(await viaPrisma(sessionId)).toBeNull();
    expect(await findSessionWithUser(db, "not-a-uuid'; DROP TABLE sessions; --")).toBeNull();
  });

  it("passes the id as a parameter, never as SQL", async () => {
    const { sessionId } = await userWithSession();
    // A valid UUID with SQL appended is not a UUID: refused before any query.
    expect(await findSessionWithUser(db, `${sessionId}' OR '1'='1`)).toBeNull();
    expect(await db.prisma.session.count()).toBe(1);
  });
});

describe("resolveSession over the raw lookup", () => {
  const now = () => new Date("2026-06-01T00:00:00.000Z");

  it("resolves a live session to its user", async () => {
    const { userId, sessionId } = await userWithSession();
    const { user, session } = await resolveSession({ db, now }, userId, sessionId);
    const prisma = (await viaPrisma(sessionId))!;
    expect(user).toEqual(prisma.user);
    expect(session).toEqual({ id: sessionId, lastUsedAt: prisma.lastUsedAt });
  });

  it("refuses revoked, expired, unknown and other users' sessions with SESSION_REVOKED", async () => {
    const revoked = await userWithSession({ revokedAt: new Date("2026-02-01T00:00:00.000Z") });
    const expired = await userWithSession({ expiresAt: new Date("2026-06-01T00:00:00.000Z") });
    const live = await userWithSession();
    await expectTRPCError(resolveSession({ db, now }, revoked.userId, revoked.sessionId), "UNAUTHORIZED", "SESSION_REVOKED");
    await expectTRPCError(resolveSession({ db, now }, expired.userId, expired.sessionId), "UNAUTHORIZED", "SESSION_REVOKED");
    await expectTRPCError(resolveSession({ db, now }, live.userId, randomUUID()), "UNAUTHORIZED", "SESSION_REVOKED");
    await expectTRPCError(resolveSession({ db, now }, revoked.userId, live.sessionId), "UNAUTHORIZED", "SESSION_REVOKED");
  });
});
