/**
 * Sessions and refresh-token rotation (docs/API.md).
 *
 * Every refresh token ever issued is kept (hashed) with the time it was used.
 * Presenting a used one again is a replay: the whole session is revoked
 * (OAuth 2.0 Security BCP, RFC 9700 section 4.14.2). Rotation claims the old
 * token with a conditional update inside a transaction, so two refreshes racing
 * with one token can never both succeed.
 */
import type { SqlQuery } from "../db/database.ts";
import { appError } from "../errors.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { eventData, recordEvent } from "../audit/events.ts";
import { isUuid, issueOpaqueToken, parseOpaqueToken, secretMatches } from "../tokens/opaque-token.ts";
import { lockUser, retireOneTimeTokens } from "../tokens/one-time-tokens.ts";
import { findSessionWithUser } from "./lookup.ts";
import { publicUserSelect, type PublicUser } from "../identity/user-view.ts";

/** What register, login, refresh and password change return (docs/API.md `AuthResult`). */
export interface AuthResult {
  accessToken: string;
  refreshToken: string;
  tokenType: "Bearer";
  expiresIn: number;
  user: PublicUser;
}

/** A session as listed by `auth.sessions`. */
export interface SessionView {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

/** The session an access token names, once checked live. */
export interface ResolvedSession {
  id: string;
  lastUsedAt: Date;
}

function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

/** Data for a nested `sessions.create` that opens a session with its first refresh token. */
export function newSessionData(deps: AuthDeps, meta: RequestMeta, now: Date) {
  const refresh = issueOpaqueToken();
  const expiresAt = addSeconds(now, deps.refreshTokenTtl);
  return {
    refreshToken: refresh.token,
    data: {
      createdAt: now,
      lastUsedAt: now,
      expiresAt,
      ip: meta.ip,
      userAgent: meta.userAgent,
      refreshTokens: { create: { id: refresh.id, secretHash: refresh.secretHash, createdAt: now, expiresAt } },
    },
  };
}

/** Builds the AuthResult for a session: a new access token plus the given refresh token. */
export function authResult(deps: AuthDeps, user: PublicUser, sessionId: string, refreshToken: string, now: Date): AuthResult {
  return {
    accessToken: deps.accessTokens.sign(user.id, sessionId, now),
    refreshToken,
    tokenType: "Bearer",
    expiresIn: deps.accessTokens.ttlSeconds,
    user,
  };
}

/** Opens a new session for a user and records the event that opened it. */
export async function openSession(
  deps: AuthDeps,
  user: PublicUser,
  event: "login" | "password_changed" | "passkey_login",
  meta: RequestMeta,
): Promise<AuthResult> {
  const now = deps.now();
  const { refreshToken, data } = newSessionData(deps, meta, now);
  const [session] = await deps.prisma.$transaction([
    deps.prisma.session.create({ data: { ...data, userId: user.id }, select: { id: true } }),
    deps.prisma.authEvent.create({ data: { userId: user.id, ...eventData(event, meta, now) } }),
  ]);
  return authResult(deps, user, session.id, refreshToken, now);
}

/**
 * Checks that the session named by a verified access token is still live:
 * not revoked, not expired, and owned by the token's user (who still exists).
 */
export async function resolveSession(
  deps: Pick<AuthDeps, "now"> & { db: { query: SqlQuery } },
  userId: string,
  sessionId: string,
): Promise<{ user: PublicUser; session: ResolvedSession }> {
  // One raw statement instead of Prisma: this runs on every protected request.
  const session = await findSessionWithUser(deps.db, sessionId);
  if (!session || session.userId !== userId || session.revokedAt !== null || session.expiresAt <= deps.now()) {
    throw appError("SESSION_REVOKED");
  }
  return { user: session.user, session: { id: session.id, lastUsedAt: session.lastUsedAt } };
}

/** Exchanges a refresh token for a new pair, retiring the one presented. */
export async function refreshSession(deps: AuthDeps, presented: string, meta: RequestMeta): Promise<AuthResult> {
  const parsed = parseOpaqueToken(presented);
  if (!parsed) throw appError("REFRESH_TOKEN_INVALID");
  const now = deps.now();
  const row = await deps.prisma.refreshToken.findUnique({
    where: { id: parsed.id },
    select: {
      secretHash: true,
      usedAt: true,
      expiresAt: true,
      session: { select: { id: true, revokedAt: true, expiresAt: true, user: { select: publicUserSelect } } },
    },
  });
  if (!row || !secretMatches(parsed.secret, row.secretHash)) throw appError("REFRESH_TOKEN_INVALID");
  const { session } = row;
  if (row.usedAt !== null) return revokeOnReuse(deps, session.id, session.user.id, meta);
  if (session.revokedAt !== null || session.expiresAt <= now || row.expiresAt <= now) {
    throw appError("REFRESH_TOKEN_INVALID", { userId: session.user.id });
  }

  const next = issueOpaqueToken();
  const expiresAt = addSeconds(now, deps.refreshTokenTtl);
  const outcome = await deps.prisma.$transaction(async (tx) => {
    const claimed = await tx.refreshToken.updateMany({ where: { id: parsed.id, usedAt: null }, data: { usedAt: now } });
    if (claimed.count === 0) return "reused" as const;
    const live = await tx.session.updateMany({
      where: { id: session.id, revokedAt: null },
      data: { lastUsedAt: now, expiresAt, ip: meta.ip, userAgent: meta.userAgent },
    });
    if (live.count === 0) return "revoked" as const;
    await tx.refreshToken.create({
      data: { id: next.id, sessionId: session.id, secretHash: next.secretHash, createdAt: now, expiresAt },
    });
    await tx.authEvent.create({ data: { userId: session.user.id, ...eventData("refresh", meta, now) } });
    return "rotated" as const;
  });
  if (outcome === "reused") return revokeOnReuse(deps, session.id, session.user.id, meta);
  if (outcome === "revoked") throw appError("REFRESH_TOKEN_INVALID", { userId: session.user.id });
  return authResult(deps, session.user, session.id, next.token, now);
}

async function revokeOnReuse(deps: AuthDeps, sessionId: string, userId: string, meta: RequestMeta): Promise<never> {
  const now = deps.now();
  await deps.prisma.$transaction([
    deps.prisma.session.updateMany({ where: { id: sessionId, revokedAt: null }, data: { revokedAt: now } }),
    deps.prisma.authEvent.create({ data: { userId, ...eventData("refresh_reused", meta, now) } }),
  ]);
  throw appError("REFRESH_TOKEN_REUSED", { userId });
}

/** Revokes one of the user's live sessions; NOT_FOUND when it is not theirs or already gone. */
export async function revokeSession(
  deps: Pick<AuthDeps, "prisma" | "now">,
  userId: string,
  sessionId: string,
  event: "logout" | "session_revoked",
  meta: RequestMeta,
): Promise<void> {
  if (!isUuid(sessionId)) throw appError("NOT_FOUND", { message: "Session not found" });
  const now = deps.now();
  const revoked = await deps.prisma.$transaction(async (tx) => {
    const { count } = await tx.session.updateMany({
      where: { id: sessionId, userId, revokedAt: null, expiresAt: { gt: now } },
      data: { revokedAt: now },
    });
    if (count > 0) await recordEvent(tx, userId, event, meta, now);
    return count > 0;
  });
  if (!revoked) throw appError("NOT_FOUND", { message: "Session not found" });
}

/**
 * `auth.logoutAll`: revokes every live session of the user and retires every
 * outstanding reset and verification link, in one transaction. "Sign me out
 * everywhere" is what a user does after a suspected compromise; a reset link
 * the intruder requested must not outlive it. Returns how many sessions died.
 */
export async function logoutEverywhere(
  deps: Pick<AuthDeps, "prisma" | "now">,
  userId: string,
  meta: RequestMeta,
): Promise<number> {
  const now = deps.now();
  return deps.prisma.$transaction(async (tx) => {
    if (!(await lockUser(tx, userId))) return 0;
    const { count } = await tx.session.updateMany({
      where: { userId, revokedAt: null, expiresAt: { gt: now } },
      data: { revokedAt: now },
    });
    await retireOneTimeTokens(tx, userId);
    await recordEvent(tx, userId, "logout", meta, now);
    return count;
  });
}

/** The user's live sessions, newest first. */
export async function listSessions(
  deps: Pick<AuthDeps, "prisma" | "now">,
  userId: string,
  currentSessionId: string,
): Promise<SessionView[]> {
  const sessions = await deps.prisma.session.findMany({
    where: { userId, revokedAt: null, expiresAt: { gt: deps.now() } },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { id: true, createdAt: true, lastUsedAt: true, userAgent: true, ip: true },
  });
  return sessions.map((s) => ({ ...s, current: s.id === currentSessionId }));
}

/** How stale `lastUsedAt` may get before a request refreshes it (saves a write per request). */
const TOUCH_INTERVAL_MS = 60_000;

/** Records that a session was used, at most once a minute. */
export async function touchSession(deps: Pick<AuthDeps, "prisma" | "now">, session: ResolvedSession): Promise<void> {
  const now = deps.now();
  if (now.getTime() - session.lastUsedAt.getTime() < TOUCH_INTERVAL_MS) return;
  await deps.prisma.session.updateMany({ where: { id: session.id, revokedAt: null }, data: { lastUsedAt: now } });
}
