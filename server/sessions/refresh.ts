/**
 * Refresh-token rotation (docs/API.md, docs/security.md "Refresh tokens").
 *
 * Every refresh token ever issued is kept (hashed) with the time it was used.
 * Rotation claims the presented token with a conditional update inside a
 * transaction, so two refreshes racing with one token never both rotate: the
 * session stays one chain.
 *
 * Presenting a used token again is a replay, and a replay revokes the whole
 * session (OAuth 2.0 Security BCP, RFC 9700 section 4.14.2), except inside
 * the grace window (REFRESH_REUSE_GRACE): two tabs refreshing together, or a
 * retry after a lost response, present the just-retired token a second time
 * and get the *same* successor the rotation issued, with a fresh access token.
 * The successor is kept for the window only, sealed with AES-256-GCM under
 * ENCRYPTION_KEY and bound to the retired token's id (never in plain text; the
 * table holds it for the window and is swept on every rotation). This is the
 * reuse interval of Supabase Auth and the "retry window" of Auth0's rotation.
 *
 * The grace answer is given only while that successor is still the live head
 * of the chain (unused, unexpired, the session live): a token two generations
 * old, whose successor has itself been rotated, is reuse, as is any replay
 * after the window. A used token of a session that is already revoked or
 * expired answers REFRESH_TOKEN_INVALID, not REFRESH_TOKEN_REUSED, so a stale
 * token does not confirm it was ever valid.
 */
import { eventData } from "../audit/events.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { appError } from "../errors.ts";
import { publicUserSelect, type PublicUser } from "../identity/user-view.ts";
import type { Sealer } from "../secrets/sealer.ts";
import { issueOpaqueToken, parseOpaqueToken, secretMatches } from "../tokens/opaque-token.ts";
import { addSeconds, authResult, sessionExpiry, type AuthResult } from "./sessions.ts";

/** What rotation needs beyond the common auth dependencies. */
export type RefreshDeps = AuthDeps & {
  sealer: Pick<Sealer, "seal" | "open">;
  /** REFRESH_REUSE_GRACE in seconds; 0 turns the grace window off. */
  refreshReuseGrace: number;
};

interface SessionRow {
  id: string;
  createdAt: Date;
  revokedAt: Date | null;
  expiresAt: Date;
  user: PublicUser;
}

const sessionSelect = {
  id: true,
  createdAt: true,
  revokedAt: true,
  expiresAt: true,
  user: { select: publicUserSelect },
} as const;

/** The additional data a successor is sealed under: it opens only for the token it succeeded. */
const graceContext = (retiredTokenId: string) => `refresh-successor:${retiredTokenId}`;

/** Exchanges a refresh token for a new pair, retiring the one presented. */
export async function refreshSession(deps: RefreshDeps, presented: string, meta: RequestMeta): Promise<AuthResult> {
  const parsed = parseOpaqueToken(presented);
  if (!parsed) throw appError("REFRESH_TOKEN_INVALID");
  const now = deps.now();
  const row = await deps.prisma.refreshToken.findUnique({
    where: { id: parsed.id },
    select: { secretHash: true, usedAt: true, expiresAt: true, session: { select: sessionSelect } },
  });
  if (!row || !secretMatches(parsed.secret, row.secretHash)) throw appError("REFRESH_TOKEN_INVALID");
  const { session } = row;
  // From here on the token is known: errors carry its user for the security log.
  const userId = session.user.id;
  if (!isLive(session, now)) throw appError("REFRESH_TOKEN_INVALID", { userId });
  if (row.usedAt !== null) return replayed(deps, parsed.id, row.usedAt, session, meta);
  if (row.expiresAt <= now) throw appError("REFRESH_TOKEN_INVALID", { userId });

  const next = issueOpaqueToken();
  const expiresAt = sessionExpiry(deps, session.createdAt, now);
  // Sealed before the transaction: AES-GCM is cheap, but a transaction holds a connection.
  const sealed = deps.refreshReuseGrace > 0 ? deps.sealer.seal(next.token, graceContext(parsed.id)) : null;
  const outcome = await deps.prisma.$transaction(async (tx) => {
    // The claim: of N refreshes racing with one token exactly one gets count 1.
    // The others wait on the row lock and then see used_at set.
    const claimed = await tx.refreshToken.updateMany({ where: { id: parsed.id, usedAt: null }, data: { usedAt: now } });
    if (claimed.count === 0) return "claimed elsewhere" as const;
    const live = await tx.session.updateMany({
      // A disabled account's sessions are revoked with it; the filter also
      // covers a refresh that raced with the disabling.
      where: { id: session.id, revokedAt: null, expiresAt: { gt: now }, user: { disabledAt: null } },
      data: { lastUsedAt: now, expiresAt, ip: meta.ip, userAgent: meta.userAgent },
    });
    if (live.count === 0) return "revoked" as const;
    await tx.refreshToken.create({
      data: { id: next.id, sessionId: session.id, secretHash: next.secretHash, createdAt: now, expiresAt },
    });
    // Successors whose window is over are swept here, so none is kept longer
    // than until the next rotation anywhere.
    await tx.refreshGrace.deleteMany({ where: { expiresAt: { lte: now } } });
    if (sealed !== null) {
      await tx.refreshGrace.create({
        data: { tokenId: parsed.id, successorSealed: sealed, expiresAt: addSeconds(now, deps.refreshReuseGrace) },
      });
    }
    await tx.authEvent.create({ data: { userId: session.user.id, ...eventData("refresh", meta, now) } });
    return "rotated" as const;
  });
  if (outcome === "revoked") throw appError("REFRESH_TOKEN_INVALID", { userId });
  if (outcome === "claimed elsewhere") {
    // A concurrent refresh rotated this token first (and has committed): this
    // call is a replay of it, settled by the same rules as a later one.
    const settled = await deps.prisma.refreshToken.findUnique({
      where: { id: parsed.id },
      select: { usedAt: true, session: { select: sessionSelect } },
    });
    if (!settled?.usedAt || !isLive(settled.session, deps.now())) throw appError("REFRESH_TOKEN_INVALID", { userId });
    return replayed(deps, parsed.id, settled.usedAt, settled.session, meta);
  }
  return authResult(deps, session.user, session.id, next.token, now);
}

function isLive(session: Pick<SessionRow, "revokedAt" | "expiresAt">, now: Date): boolean {
  return session.revokedAt === null && session.expiresAt > now;
}

/**
 * A used token presented again on a live session: the same successor inside
 * the grace window while that successor is still the chain's head; otherwise
 * reuse, which revokes the session.
 */
async function replayed(
  deps: RefreshDeps,
  tokenId: string,
  usedAt: Date,
  session: SessionRow,
  meta: RequestMeta,
): Promise<AuthResult> {
  const now = deps.now();
  if (deps.refreshReuseGrace > 0 && now < addSeconds(usedAt, deps.refreshReuseGrace)) {
    const successor = await graceSuccessor(deps, tokenId, now);
    if (successor !== null) return authResult(deps, session.user, session.id, successor, now);
  }
  return revokeOnReuse(deps, session.id, session.user.id, meta);
}

/** The sealed successor of a retired token, if it is kept and still the live head of its chain. */
async function graceSuccessor(deps: RefreshDeps, tokenId: string, now: Date): Promise<string | null> {
  const grace = await deps.prisma.refreshGrace.findUnique({ where: { tokenId }, select: { successorSealed: true, expiresAt: true } });
  if (!grace || grace.expiresAt <= now) return null;
  let successor: string;
  try {
    successor = deps.sealer.open(grace.successorSealed, graceContext(tokenId));
  } catch {
    // Sealed under another key (instances that do not share ENCRYPTION_KEY):
    // no grace, so the replay counts as reuse, the safe side.
    return null;
  }
  const parsed = parseOpaqueToken(successor);
  if (!parsed) return null;
  const head = await deps.prisma.refreshToken.findUnique({ where: { id: parsed.id }, select: { usedAt: true, expiresAt: true } });
  if (!head || head.usedAt !== null || head.expiresAt <= now) return null;
  return successor;
}

async function revokeOnReuse(deps: AuthDeps, sessionId: string, userId: string, meta: RequestMeta): Promise<never> {
  const now = deps.now();
  await deps.prisma.$transaction([
    deps.prisma.session.updateMany({ where: { id: sessionId, revokedAt: null }, data: { revokedAt: now } }),
    deps.prisma.authEvent.create({ data: { userId, ...eventData("refresh_reused", meta, now) } }),
  ]);
  throw appError("REFRESH_TOKEN_REUSED", { userId });
}
