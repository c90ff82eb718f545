/**
 * Admin actions on an account: disable, enable, end its sessions, delete it.
 * Each one locks the user's row, makes the change and writes its audit entry
 * (actor, target, reason, IP) in one transaction; NOT_FOUND for an unknown user.
 */
import type { AuthDeps } from "../deps.ts";
import { recordEvent } from "../audit/events.ts";
import { appError } from "../errors.ts";
import { eraseAccount } from "../identity/deletion.ts";
import { lockUser, retireOneTimeTokens, type TransactionClient } from "../tokens/one-time-tokens.ts";
import { adminUserSelect, type AdminUser } from "./admin-user.ts";
import { ADMIN_ROLE, assertNotLastAdmin, lockActiveAdmins } from "./last-admin.ts";
import type { Actor } from "./roles.ts";

type AdminDeps = Pick<AuthDeps, "prisma" | "now">;

/** An admin acting through a procedure (always a user, unlike the command line). */
export type AdminActor = Actor & { id: string };

async function lockExisting(tx: Pick<TransactionClient, "$queryRaw">, userId: string): Promise<void> {
  if (!(await lockUser(tx, userId))) throw appError("NOT_FOUND", { message: "User not found" });
}

/** Revokes every live session of a user (in the caller's transaction); how many. */
async function revokeAll(tx: Pick<TransactionClient, "session">, userId: string, now: Date): Promise<number> {
  const { count } = await tx.session.updateMany({ where: { userId, revokedAt: null, expiresAt: { gt: now } }, data: { revokedAt: now } });
  return count;
}

/**
 * Disables an account: every session is revoked at once and its mailed links
 * retired; sign-in then answers ACCOUNT_DISABLED after a right password.
 * LAST_ADMIN for the last active admin. Disabling a disabled account changes
 * nothing (and writes nothing).
 */
export async function disableUser(deps: AdminDeps, actor: AdminActor, userId: string, reason: string): Promise<AdminUser> {
  return deps.prisma.$transaction(async (tx) => {
    const admins = await lockActiveAdmins(tx);
    await lockExisting(tx, userId);
    const user = await tx.user.findUniqueOrThrow({ where: { id: userId }, select: adminUserSelect });
    if (user.disabledAt !== null) return user;
    if (user.roles.includes(ADMIN_ROLE)) assertNotLastAdmin(admins, userId);
    const now = deps.now();
    const updated = await tx.user.update({ where: { id: userId }, data: { disabledAt: now, disabledReason: reason }, select: adminUserSelect });
    const revoked = await revokeAll(tx, userId, now);
    await retireOneTimeTokens(tx, userId);
    // The account's live-event stream is told (account_disabled, migration 20261130150100_live_events).
    await recordEvent(tx, userId, "account_disabled", actor.meta, now, { actorId: actor.id, reason, detail: `${revoked} sessions revoked` });
    return updated;
  });
}

/** Enables a disabled account (its sessions stay revoked: the user signs in again). */
export async function enableUser(deps: AdminDeps, actor: AdminActor, userId: string, reason: string): Promise<AdminUser> {
  return deps.prisma.$transaction(async (tx) => {
    await lockExisting(tx, userId);
    const user = await tx.user.findUniqueOrThrow({ where: { id: userId }, select: adminUserSelect });
    if (user.disabledAt === null) return user;
    const updated = await tx.user.update({ where: { id: userId }, data: { disabledAt: null, disabledReason: null }, select: adminUserSelect });
    await recordEvent(tx, userId, "account_enabled", actor.meta, deps.now(), { actorId: actor.id, reason });
    return updated;
  });
}

/** Revokes every live session of a user; how many. */
export async function revokeUserSessions(deps: AdminDeps, actor: AdminActor, userId: string): Promise<number> {
  return deps.prisma.$transaction(async (tx) => {
    await lockExisting(tx, userId);
    const now = deps.now();
    const revoked = await revokeAll(tx, userId, now);
    await recordEvent(tx, userId, "sessions_revoked", actor.meta, now, { actorId: actor.id, detail: `${revoked} sessions revoked` });
    return revoked;
  });
}

/** Deletes a user as `auth.deleteAccount` does, recording the admin and the reason; LAST_ADMIN for the last active admin. */
export async function deleteUser(deps: AdminDeps, actor: AdminActor, userId: string, reason: string): Promise<void> {
  await deps.prisma.$transaction(async (tx) => {
    const admins = await lockActiveAdmins(tx);
    await lockExisting(tx, userId);
    assertNotLastAdmin(admins, userId);
    await eraseAccount(tx, userId, deps.now(), { actorId: actor.id, reason, ip: actor.meta.ip });
  });
}
