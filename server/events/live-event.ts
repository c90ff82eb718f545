/**
 * What `auth.events` streams. Events are written by database triggers in the
 * same transaction as the change (migration 20261130150100_live_events), so
 * every path that revokes a session or changes an account reports it,
 * including paths added later, and nothing is reported for a change that
 * rolled back.
 */
import * as z from "zod";

const LIVE_EVENT_TYPES = ["session_revoked", "password_changed", "signed_in", "mfa_changed", "email_verified", "account_disabled"] as const;
export type LiveEventType = (typeof LIVE_EVENT_TYPES)[number];

/** One event as a subscriber sees it; `current` says whether `sessionId` is the subscriber's own session. */
const LiveEventSchema = z.object({
  type: z.enum(LIVE_EVENT_TYPES),
  at: z.date(),
  sessionId: z.string().optional(),
  current: z.boolean().optional(),
});
export type LiveEvent = z.infer<typeof LiveEventSchema>;

/** The NOTIFY payload (and a `live_events` row): one event for one user. */
export interface LiveNotice {
  /** The `live_events` row id, as a decimal string: the SSE event id. */
  id: string;
  userId: string;
  type: LiveEventType;
  sessionId: string | null;
  at: string | Date;
}

/** The NOTIFY channel the triggers write to. */
export const LIVE_CHANNEL = "gatehouse_live";

/** A notice as the subscriber of `sessionId` sees it. */
export function toLiveEvent(notice: LiveNotice, sessionId: string): LiveEvent {
  const at = new Date(notice.at);
  if (notice.sessionId === null) return { type: notice.type, at };
  return { type: notice.type, at, sessionId: notice.sessionId, current: notice.sessionId === sessionId };
}

/** Parses a NOTIFY payload; null when it is not one of ours. */
export function parseNotice(payload: string): LiveNotice | null {
  try {
    const value = JSON.parse(payload) as Partial<LiveNotice>;
    if (typeof value.id !== "string" || typeof value.userId !== "string" || !LIVE_EVENT_TYPES.includes(value.type as LiveEventType)) return null;
    return { id: value.id, userId: value.userId, type: value.type as LiveEventType, sessionId: value.sessionId ?? null, at: value.at ?? new Date() };
  } catch {
    return null;
  }
}
