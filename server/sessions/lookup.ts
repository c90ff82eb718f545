/**
 * The one read every protected request makes: the session named by an access
 * token's `sid`, joined with its user, in a single parameterised statement.
 *
 * This is the only query on the `auth.me` hot path, so it bypasses Prisma:
 * Prisma sends two statements for this `findUnique` with a nested `select`
 * (sessions, then users) and spends more CPU than the query itself; see
 * README.md, "Performance" for the profile. The columns are exactly those of
 * `publicUserSelect`, mapped to the same `PublicUser` shape, and
 * tests/session-lookup.test.ts checks the result equals Prisma's on both
 * databases.
 */
import type { SqlQuery } from "../db/database.ts";
import { isUuid } from "../tokens/opaque-token.ts";
import type { PublicUser } from "../identity/user-view.ts";

/** A session row with what resolving an access token needs, and its user's public view. */
export interface SessionWithUser {
  id: string;
  userId: string;
  revokedAt: Date | null;
  expiresAt: Date;
  lastUsedAt: Date;
  user: PublicUser;
}

interface Row {
  id: string;
  user_id: string;
  revoked_at: Date | null;
  expires_at: Date;
  last_used_at: Date;
  email: string;
  name: string;
  email_verified: boolean;
  created_at: Date;
  two_factor_enabled: boolean;
}

const SESSION_WITH_USER = `SELECT s.id, s.user_id, s.revoked_at, s.expires_at, s.last_used_at,
  u.email, u.name, u.email_verified, u.created_at, u.two_factor_enabled
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.id = $1`;

/** The session with its user, or null when there is no such session (or `sessionId` is not a UUID). */
export async function findSessionWithUser(db: { query: SqlQuery }, sessionId: string): Promise<SessionWithUser | null> {
  if (!isUuid(sessionId)) return null;
  const [row] = await db.query<Row>(SESSION_WITH_USER, [sessionId]);
  if (!row) return null;
  return {
    id: row.id,
    userId: row.user_id,
    revokedAt: row.revoked_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    user: {
      id: row.user_id,
      email: row.email,
      name: row.name,
      emailVerified: row.email_verified,
      createdAt: row.created_at,
      twoFactorEnabled: row.two_factor_enabled,
    },
  };
}
