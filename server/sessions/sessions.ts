/**
 * Sessions (docs/API.md): opening, resolving, listing and revoking them.
 * Refresh-token rotation lives in ./refresh.ts.
 */
import type { Database } from "../db/database.ts";
import { appError } from "../errors.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { eventData, recordEvent } from "../audit/events.ts";
import { isUuid, issueOpaqueToken } from "../tokens/opaque-token.ts";
import { lockUser, retireOneTimeTokens } from "../tokens/one-time-tokens.ts";
import { findSessionWithUser, type Impersonator } from "./lookup.ts";
import type { PublicUser } from "../identity/user-view.ts";
import { claimSignIn } from "../identity/account-status.ts";

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
  /** Set on an impersonation session: the admin acting as the user. */
  impersonator: Impersonator | null;
}

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

/**
 * When a session (and the refresh token issued now) expires: REFRESH_TOKEN_TTL
 * from now, but never past SESSION_MAX_AGE from the session's creation, so a
 * session refreshed regularly still ends (OWASP ASVS 5.0 V7.3.2).
 */
export function sessionExpiry(deps: Pick<AuthDeps, "refreshTokenTtl" | "sessionMaxAge">, createdAt: Date, now: Date): Date {
  const sliding = addSeconds(now, deps.refreshTokenTtl).getTime();
  const absolute = addSeconds(createdAt, deps.sessionMaxAge).getTime();
  return new Date(Math.min(sliding, absolute));
}

/** Data for a nested `sessions.create` that opens a session with its first refresh token. */
export function newSessionData(deps: AuthDeps, meta: RequestMeta, now: Date) {
  const refresh = issueOpaqueToken();
  const expiresAt = sessionExpiry(deps, now, now);
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
    // Roles at issue time, for services that authorise offline; Gatehouse itself re-reads them on every request.
    accessToken: deps.accessTokens.sign(user.id, sessionId, now, user.roles),
    refreshToken,
    tokenType: "Bearer",
    expiresIn: deps.accessTokens.ttlSeconds,
    user,
  };
}

/** Opens a new session for a user and records the event that opened it; ACCOUNT_DISABLED for a disabled account. */
export async function openSession(
  deps: AuthDeps,
  user: PublicUser,
  event: "login" | "password_changed" | "passkey_login",
  meta: RequestMeta,
): Promise<AuthResult> {
  const now = deps.now();
  const { refreshToken, data } = newSessionData(deps, meta, now);
  const session = await deps.prisma.$transaction(async (tx) => {
    await claimSignIn(tx, user.id, now);
    await tx.authEvent.create({ data: { userId: user.id, ...eventData(event, meta, now) } });
    return tx.session.create({ data: { ...data, userId: user.id }, select: { id: true } });
  });
  return authResult(deps, user, session.id, refreshToken, now);
}

/**
 * Checks that the session named by a verified access token is still live:
 * not revoked, not expired, and owned by the token's user (who still exists).
 */
export async function resolveSession(
  deps: Pick<AuthDeps, "now"> & { db: Pick<Database, "prisma" | "query"> },
  userId: string,
  sessionId: string,
): Promise<{ user: PublicUser; session: ResolvedSession }> {
  // One raw statement instead of Prisma: this runs on every protected request.
  const session = await findSessionWithUser(deps.db, sessionId);
  if (!session || session.userId !== userId || session.revokedAt !== null || session.expiresAt <= deps.now()) {
    throw appError("SESSION_REVOKED");
  }
  // Disabling revokes every session in the same transaction; this covers a
  // session opened by a sign-in that raced with it.
  const { disabledAt, ...user } = session.user;
  if (disabledAt !== null) throw appError("ACCOUNT_DISABLED", { userId });
  return { user, session: { id: session.id, lastUsedAt: session.lastUsedAt, impersonator: session.impersonator } };
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
