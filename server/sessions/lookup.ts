/**
 * The one read every protected request makes: the session named by an access
 * token's `sid`, joined with its user (and, for an impersonation session, the
 * admin acting), in a single parameterised statement.
 *
 * This is the only query on the `auth.me` hot path, so it bypasses Prisma:
 * Prisma sends two statements for this `findUnique` with a nested `select`
 * (sessions, then users) and spends more CPU than the query itself; see
 * docs/performance.md for the profile. `findSessionWithUserViaPrisma`
 * is the plain path it stands for, with the same signature and type (derived
 * from `sessionWithUserSelect`); tests/session-lookup.test.ts checks that both
 * return the same thing on both databases.
 */
import type { Database } from "../db/database.ts";
import type { Prisma } from "../generated/prisma/client.ts";
import { isUuid } from "../tokens/opaque-token.ts";
import { publicUserOfRow, publicUserSelect, type PublicUserRow } from "../identity/user-view.ts";

/** The Prisma `select` this lookup answers exactly as (the plain path). */
const sessionWithUserSelect = {
  id: true,
  userId: true,
  revokedAt: true,
  expiresAt: true,
  lastUsedAt: true,
  impersonator: { select: { id: true, email: true } },
  user: { select: { ...publicUserSelect, disabledAt: true } },
} as const;

/** A session row with what resolving an access token needs, and its user's public view. */
type SessionWithUser = Prisma.SessionGetPayload<{ select: typeof sessionWithUserSelect }>;

/** The admin acting in an impersonation session. */
export type Impersonator = NonNullable<SessionWithUser["impersonator"]>;

/**
 * The session named by an access token's `sid`, with its user; null when there
 * is no such session (or `sessionId` is not a UUID). Both paths below answer it.
 */
export type SessionLookup = (db: Pick<Database, "prisma" | "query">, sessionId: string) => Promise<SessionWithUser | null>;

/** The plain path: one Prisma query. tests/session-lookup.test.ts holds the raw path to it. */
export const findSessionWithUserViaPrisma: SessionLookup = async (db, sessionId) =>
  isUuid(sessionId) ? db.prisma.session.findUnique({ where: { id: sessionId }, select: sessionWithUserSelect }) : null;

/**
 * The row as one JSON object: a single column costs pg far less to describe
 * and decode than fourteen (each execution of a prepared statement describes
 * its columns again), and JSON carries booleans, arrays and timestamps (ISO
 * 8601 with offset) without pg's per-type parsers.
 */
interface Row extends Omit<PublicUserRow, "created_at"> {
  id: string;
  user_id: string;
  revoked_at: string | null;
  expires_at: string;
  last_used_at: string;
  impersonator_id: string | null;
  impersonator_email: string | null;
  created_at: string;
  disabled_at: string | null;
}

const SESSION_WITH_USER = `SELECT json_build_object(
  'id', s.id, 'user_id', s.user_id, 'revoked_at', s.revoked_at, 'expires_at', s.expires_at, 'last_used_at', s.last_used_at,
  'impersonator_id', i.id, 'impersonator_email', i.email,
  'email', u.email, 'name', u.name, 'email_verified', u.email_verified, 'created_at', u.created_at,
  'two_factor_enabled', u.two_factor_enabled, 'roles', u.roles, 'disabled_at', u.disabled_at) AS row
FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN users i ON i.id = s.impersonator_id
WHERE s.id = $1`;

const dateOf = (value: string) => new Date(value);
const dateOrNull = (value: string | null) => (value === null ? null : new Date(value));

/** The fast path, used on every protected request: one raw statement. */
export const findSessionWithUser: SessionLookup = async (db, sessionId) => {
  if (!isUuid(sessionId)) return null;
  const [found] = await db.query<{ row: Row }>(SESSION_WITH_USER, [sessionId]);
  if (!found) return null;
  const { row } = found;
  return {
    id: row.id,
    userId: row.user_id,
    revokedAt: dateOrNull(row.revoked_at),
    expiresAt: dateOf(row.expires_at),
    lastUsedAt: dateOf(row.last_used_at),
    impersonator: row.impersonator_id === null ? null : { id: row.impersonator_id, email: row.impersonator_email! },
    user: { ...publicUserOfRow(row.user_id, { ...row, created_at: dateOf(row.created_at) }), disabledAt: dateOrNull(row.disabled_at) },
  };
};
