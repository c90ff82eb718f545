/**
 * The raw session lookup on the protected path (server/sessions/lookup.ts)
 * returns exactly what the Prisma query it replaced returned, on whichever
 * database the suite runs on (PGlite, or PostgreSQL with TEST_DATABASE_URL).
 */
import { randomUUID } from "node:crypto";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { findSessionWithUser, findSessionWithUserViaPrisma } from "../server/sessions/lookup.ts";
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

/** The plain Prisma path the raw lookup stands for (same signature). */
const viaPrisma = (sessionId: string) => findSessionWithUserViaPrisma(db, sessionId);

async function userWithSession(
  session: { revokedAt?: Date | null; expiresAt?: Date; impersonatorId?: string } = {},
  account: { roles?: string[]; disabledAt?: Date } = {},
) {
  const user = await db.prisma.user.create({
    data: {
      email: `lookup-${randomUUID()}@example.com`,
      name: "Ünïcode ✓ name",
      passwordHash: "not-a-real-hash",
      emailVerified: true,
      createdAt: new Date("2026-01-02T03:04:05.678Z"),
      roles: account.roles ?? [],
      disabledAt: account.disabledAt ?? null,
      sessions: {
        create: {
          createdAt: new Date("2026-01-03T00:00:00.001Z"),
          lastUsedAt: new Date("2026-01-04T00:00:00.999Z"),
          expiresAt: session.expiresAt ?? new Date("2099-01-01T00:00:00.000Z"),
          revokedAt: session.revokedAt ?? null,
          ip: "127.0.0.1",
          userAgent: "vitest",
          impersonatorId: session.impersonatorId ?? null,
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
    expect(Object.keys(raw!.user)).toEqual([...Object.keys(publicUserSelect), "disabledAt"]);
    expect(raw!.user.createdAt).toBeInstanceOf(Date);
    expect(raw!.user.createdAt.toISOString()).toBe("2026-01-02T03:04:05.678Z");
    expect(raw!.lastUsedAt.toISOString()).toBe("2026-01-04T00:00:00.999Z");
    expect(typeof raw!.user.emailVerified).toBe("boolean");
  });

  it("returns roles, the disabled time and an impersonation session's actor as Prisma does", async () => {
    const admin = await userWithSession({}, { roles: ["admin", "support"] });
    const target = await userWithSession({ impersonatorId: admin.userId }, { disabledAt: new Date("2026-03-01T00:00:00.123Z") });
    const raw = await findSessionWithUser(db, target.sessionId);
    expect(raw).toEqual(await viaPrisma(target.sessionId));
    expect(raw!.impersonator).toEqual({ id: admin.userId, email: expect.stringMatching(/^lookup-/) });
    expect(raw!.user.disabledAt!.toISOString()).toBe("2026-03-01T00:00:00.123Z");
    const adminRow = await findSessionWithUser(db, admin.sessionId);
    expect(adminRow).toEqual(await viaPrisma(admin.sessionId));
    expect(adminRow!.user.roles).toEqual(["admin", "support"]);
    expect(adminRow!.impersonator).toBeNull();
  });

  it("returns a name JSON must escape and a NULL role list as Prisma does", async () => {
    const { userId, sessionId } = await userWithSession();
    await db.prisma.user.update({ where: { id: userId }, data: { name: 'Quote " back\\slash \u2028 tab\t 😀' } });
    await db.query("UPDATE users SET roles = NULL WHERE id = $1", [userId]);
    const raw = await findSessionWithUser(db, sessionId);
    expect(raw).toEqual(await viaPrisma(sessionId));
    expect(raw!.user.name).toBe('Quote " back\\slash \u2028 tab\t 😀');
    expect(raw!.user.roles).toEqual([]);
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
    expect(await viaPrisma("not-a-uuid")).toBeNull();
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
    const { disabledAt, ...prismaUser } = (await viaPrisma(sessionId))!.user;
    expect(disabledAt).toBeNull();
    expect(user).toEqual(prismaUser);
    expect(session).toEqual({ id: sessionId, lastUsedAt: (await viaPrisma(sessionId))!.lastUsedAt, impersonator: null });
  });

  it("refuses a live session of a disabled user with ACCOUNT_DISABLED", async () => {
    const { userId, sessionId } = await userWithSession({}, { disabledAt: new Date("2026-05-01T00:00:00.000Z") });
    await expectTRPCError(resolveSession({ db, now }, userId, sessionId), "FORBIDDEN", "ACCOUNT_DISABLED");
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
