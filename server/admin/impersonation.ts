/**
 * Impersonation: an admin acting as a user, in a session of that user flagged
 * with the admin (`sessions.impersonator_id`). What such a session may not do,
 * and the record of every call made in it.
 */
import { recordEvent } from "../audit/events.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { appError } from "../errors.ts";
import { publicUserSelect } from "../identity/user-view.ts";
import { addSeconds, type AuthResult } from "../sessions/sessions.ts";
import { isUuid } from "../tokens/opaque-token.ts";
import { lockUser } from "../tokens/one-time-tokens.ts";
import { isPrivileged } from "./permissions.ts";

/**
 * Procedures an impersonation session is refused (FORBIDDEN), besides every
 * admin procedure (it holds no permission): whatever would change how the user
 * signs in, or end the account. An admin sees what the user sees; they do not
 * leave a passkey, a TOTP secret or a new password behind.
 */
const REFUSED_PREFIXES = [
  "admin.",
  "auth.changePassword",
  "auth.deleteAccount",
  "auth.setPassword",
  "auth.linkOAuth",
  "auth.unlinkIdentity",
  "mfa.",
  "passkey.",
];

/** Whether an impersonation session is refused the procedure at `path`. */
export function refusedWhileImpersonating(path: string): boolean {
  return REFUSED_PREFIXES.some((prefix) => path.startsWith(prefix));
}

/** Writes the audit entry of one call made in an impersonation session, before the call runs. */
export async function recordImpersonatedCall(
  deps: Pick<AuthDeps, "prisma" | "now">,
  call: { actorId: string; userId: string; path: string; meta: RequestMeta },
): Promise<void> {
  await recordEvent(deps.prisma, call.userId, "impersonated_call", call.meta, deps.now(), { actorId: call.actorId, detail: call.path });
}

/** How long an impersonation session lives, at most (it is never refreshed). */
const IMPERSONATION_SECONDS = 15 * 60;

/**
 * `admin.impersonate`: a session of the target flagged with the actor, for
 * 15 minutes, without a refresh token (the answer's `refreshToken` is empty
 * and no row backs it). Refused (FORBIDDEN) for oneself and for a target
 * holding any `users:*` permission, so impersonation never climbs to another
 * admin; ACCOUNT_DISABLED for a disabled target. The session and its
 * `impersonation_started` entry are one transaction, under the target's lock.
 */
export async function impersonate(
  deps: Pick<AuthDeps, "prisma" | "now" | "accessTokens">,
  actor: { id: string; meta: RequestMeta },
  userId: string,
  reason: string,
): Promise<AuthResult> {
  if (userId === actor.id) throw appError("FORBIDDEN", { message: "You cannot impersonate yourself" });
  const now = deps.now();
  const { user, sessionId } = await deps.prisma.$transaction(async (tx) => {
    if (!isUuid(userId) || !(await lockUser(tx, userId))) throw appError("NOT_FOUND", { message: "User not found" });
    const target = await tx.user.findUniqueOrThrow({ where: { id: userId }, select: { ...publicUserSelect, disabledAt: true } });
    if (isPrivileged(target.roles)) throw appError("FORBIDDEN", { message: "Users who hold a users:* permission cannot be impersonated" });
    const { disabledAt, ...user } = target;
    if (disabledAt !== null) throw appError("ACCOUNT_DISABLED");
    const session = await tx.session.create({
      data: {
        userId,
        impersonatorId: actor.id,
        createdAt: now,
        lastUsedAt: now,
        expiresAt: addSeconds(now, IMPERSONATION_SECONDS),
        ip: actor.meta.ip,
        userAgent: actor.meta.userAgent,
      },
      select: { id: true },
    });
    await recordEvent(tx, userId, "impersonation_started", actor.meta, now, { actorId: actor.id, reason, detail: `session ${session.id}` });
    return { user, sessionId: session.id };
  });
  return {
    accessToken: deps.accessTokens.sign(user.id, sessionId, now),
    refreshToken: "",
    tokenType: "Bearer",
    expiresIn: Math.min(deps.accessTokens.ttlSeconds, IMPERSONATION_SECONDS),
    user,
  };
}
