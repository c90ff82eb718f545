/** Row counts of every application table, to show that an attack changed nothing. */
import { expect } from "vitest";
import type { Database } from "../../server/db/database.ts";

export interface RowCounts {
  users: number;
  sessions: number;
  liveSessions: number;
  refreshTokens: number;
  usedRefreshTokens: number;
  oneTimeTokens: number;
  authEvents: number;
}

/** Counts rows (and live sessions / used refresh tokens, which change without new rows). */
export async function rowCounts(db: Database): Promise<RowCounts> {
  const p = db.prisma;
  const [users, sessions, liveSessions, refreshTokens, usedRefreshTokens, oneTimeTokens, authEvents] = await Promise.all([
    p.user.count(),
    p.session.count(),
    p.session.count({ where: { revokedAt: null } }),
    p.refreshToken.count(),
    p.refreshToken.count({ where: { usedAt: { not: null } } }),
    p.oneTimeToken.count(),
    p.authEvent.count(),
  ]);
  return { users, sessions, liveSessions, refreshTokens, usedRefreshTokens, oneTimeTokens, authEvents };
}

/** Runs an action and asserts that it changed no row count; returns its result. */
export async function expectNoChange<T>(db: Database, action: () => Promise<T>): Promise<T> {
  const before = await rowCounts(db);
  const result = await action();
  expect(await rowCounts(db)).toEqual(before);
  return result;
}
