/** `admin.getUser`: one user with its live sessions and its latest audit entries. */
import type { AuthDeps } from "../deps.ts";
import { ACTIVITY_LIMIT } from "../audit/activity.ts";
import { listSessions, type SessionView } from "../sessions/sessions.ts";
import { findAdminUser, type AdminUser } from "./admin-user.ts";
import { queryAudit, type AuditEntry } from "./audit-trail.ts";

export type UserDetail = AdminUser & { sessions: SessionView[]; events: AuditEntry[] };

/** The user (NOT_FOUND if unknown), its live sessions newest first (none is `current`), its last 50 entries. */
export async function getUserDetail(deps: Pick<AuthDeps, "prisma" | "now">, userId: string): Promise<UserDetail> {
  const user = await findAdminUser(deps.prisma, userId);
  const [sessions, events] = await Promise.all([listSessions(deps, user.id, ""), queryAudit(deps, { userId: user.id, limit: ACTIVITY_LIMIT })]);
  return { ...user, sessions, events };
}
