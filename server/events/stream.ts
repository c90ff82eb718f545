/**
 * One subscriber's stream: events since its last event id (when it
 * reconnects), then live ones, each tracked by its id so that the client
 * resumes where it stopped. It ends after telling the subscriber that its own
 * session was revoked, and when it falls too far behind (the client then
 * reconnects and resumes from the table).
 */
import { tracked, type TrackedEnvelope } from "@trpc/server";
import type { Database } from "../db/database.ts";
import type { LiveEventHub } from "./hub.ts";
import { toLiveEvent, type LiveEvent, type LiveEventType, type LiveNotice } from "./live-event.ts";

/** Events a subscriber may have pending before its stream is ended. */
const MAX_QUEUE = 256;
/** How long a stream waits, after its own revocation, for the rest of that commit's events. */
const SAME_COMMIT_GRACE_MS = 50;
/** Events replayed on one reconnection at most. */
const MAX_REPLAY = 500;

export interface StreamDeps {
  events: LiveEventHub;
  db: Pick<Database, "query">;
  now: () => Date;
}

interface Row {
  id: string;
  user_id: string;
  type: LiveEventType;
  session_id: string | null;
  at: Date;
}

/** The live events of `userId`, as seen from `sessionId`, until aborted or the session is revoked. */
export async function* liveEventStream(
  deps: StreamDeps,
  userId: string,
  sessionId: string,
  lastEventId: string | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<TrackedEnvelope<LiveEvent>> {
  const queue: LiveNotice[] = [];
  let overflow = false;
  let wake: (() => void) | null = null;
  // Subscribed before reading anything, so nothing committed meanwhile is missed.
  const unsubscribe = deps.events.subscribe(userId, (notice) => {
    if (queue.length >= MAX_QUEUE) overflow = true;
    else queue.push(notice);
    wake?.();
  });
  const onAbort = () => wake?.();
  signal?.addEventListener("abort", onAbort);
  try {
    let seen: bigint | null = null;
    const resumeFrom = lastEventId !== undefined && /^\d{1,19}$/.test(lastEventId) ? BigInt(lastEventId) : null;
    if (resumeFrom !== null) {
      const rows = await deps.db.query<Row>(
        'SELECT "id"::text AS "id", "user_id", "type", "session_id", "at" FROM "live_events" WHERE "user_id" = $1 AND "id" > $2 ORDER BY "id" LIMIT $3',
        [userId, resumeFrom.toString(), MAX_REPLAY],
      );
      seen = resumeFrom;
      for (const row of rows) {
        const notice: LiveNotice = { id: row.id, userId: row.user_id, type: row.type, sessionId: row.session_id, at: row.at };
        seen = BigInt(row.id);
        yield tracked(notice.id, toLiveEvent(notice, sessionId));
        if (endsStream(notice, sessionId)) return;
      }
    } else {
      // The session was checked before this subscription existed; a revocation in between is caught here.
      // A fresh stream starts now: a notice of an event committed before this
      // read (the sign-in that made this session, say) may still be on its
      // way, and is not passed on.
      const [row] = await deps.db.query<{ revoked_at: Date | null; last_id: string | null }>(
        'SELECT "revoked_at", (SELECT max("id")::text FROM "live_events" WHERE "user_id" = $2) AS "last_id" FROM "sessions" WHERE "id" = $1',
        [sessionId, userId],
      );
      if (!row || row.revoked_at !== null) {
        yield tracked("0", { type: "session_revoked", at: row?.revoked_at ?? deps.now(), sessionId, current: true });
        return;
      }
      if (row.last_id !== null) seen = BigInt(row.last_id);
    }
    let ending = false;
    while (!signal?.aborted && !overflow) {
      const notice = queue.shift();
      if (!notice) {
        if (ending) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        continue;
      }
      if (seen !== null && BigInt(notice.id) <= seen) continue;
      yield tracked(notice.id, toLiveEvent(notice, sessionId));
      if (endsStream(notice, sessionId) && !ending) {
        // The change that revoked this session may have reported more in the
        // same commit (a password change: the revocations, then
        // password_changed); its notices arrive together, so wait a moment
        // for them, pass them on, then end.
        ending = true;
        await new Promise((resolve) => setTimeout(resolve, SAME_COMMIT_GRACE_MS));
      }
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener("abort", onAbort);
  }
}

function endsStream(notice: LiveNotice, sessionId: string): boolean {
  return notice.type === "session_revoked" && notice.sessionId === sessionId;
}
