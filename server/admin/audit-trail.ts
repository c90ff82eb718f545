/**
 * The audit trail as admins read it: every row of `auth_events` (each user's
 * security events and every admin action), newest first. Rows are written
 * only through `recordEvent`/`eventData`, in the transaction of the change
 * they record; nothing in the application updates or deletes them, except
 * that deleting an account pseudonymises its own rows (server/identity/deletion.ts).
 */
import type { AuthDeps } from "../deps.ts";
import { accountPseudonym, type AuthEventType } from "../audit/events.ts";
import type { Prisma } from "../generated/prisma/client.ts";

/** One audit entry: who did what to whom, when, from where, and why. */
export interface AuditEntry {
  id: string;
  /** The admin who acted; null when the user acted themself (or the command line did). */
  actorId: string | null;
  /** The user concerned; null once that account is deleted (see `subject`). */
  targetId: string | null;
  /** The pseudonym a deleted account's entries keep. */
  subject: string | null;
  type: AuthEventType;
  at: Date;
  ip: string | null;
  userAgent: string | null;
  reason: string | null;
  detail: string | null;
}

export interface AuditQuery {
  /** Entries concerning this user, also after the account was deleted (by its pseudonym). */
  userId?: string;
  actorId?: string;
  type?: AuthEventType;
  /** Only entries strictly older (the `at` of the last entry of the previous page). */
  before?: Date;
  limit: number;
}

const entrySelect = {
  id: true,
  actorId: true,
  userId: true,
  subject: true,
  type: true,
  at: true,
  ip: true,
  userAgent: true,
  reason: true,
  detail: true,
} as const;

/** The entries matching every given filter, newest first (ties by the time-ordered id). */
export async function queryAudit(deps: Pick<AuthDeps, "prisma">, query: AuditQuery): Promise<AuditEntry[]> {
  const where: Prisma.AuthEventWhereInput = {
    ...(query.userId !== undefined ? { OR: [{ userId: query.userId }, { subject: accountPseudonym(query.userId) }] } : {}),
    ...(query.actorId !== undefined ? { actorId: query.actorId } : {}),
    ...(query.type !== undefined ? { type: query.type } : {}),
    ...(query.before !== undefined ? { at: { lt: query.before } } : {}),
  };
  const rows = await deps.prisma.authEvent.findMany({ where, orderBy: [{ at: "desc" }, { id: "desc" }], take: query.limit, select: entrySelect });
  return rows.map(({ userId, type, ...row }) => ({ ...row, targetId: userId, type: type as AuthEventType }));
}
