/** `auth.activity`: the user's own audit trail (docs/API.md). */
import type { AuthDeps, RequestMeta } from "../deps.ts";
import type { AuthEventType } from "./events.ts";

/** How many events `auth.activity` returns. */
export const ACTIVITY_LIMIT = 50;

/** An event as the user sees it; rows hold no password or token, only what happened, when and from where. */
export interface ActivityEvent extends RequestMeta {
  type: AuthEventType;
  at: Date;
}

/** The user's last 50 events, newest first (ties broken by the time-ordered UUIDv7 id). */
export async function listActivity(deps: Pick<AuthDeps, "prisma">, userId: string): Promise<ActivityEvent[]> {
  const events = await deps.prisma.authEvent.findMany({
    // The calls an admin made while impersonating the user are in the audit
    // trail (admin.audit); the user's own list shows that it started.
    where: { userId, type: { not: "impersonated_call" } },
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: ACTIVITY_LIMIT,
    select: { type: true, at: true, ip: true, userAgent: true },
  });
  // Rows are only written through `recordEvent`/`eventData`, typed by AuthEventType;
  // the output schema checks the value again on the way out.
  return events.map((event) => ({ ...event, type: event.type as AuthEventType }));
}
