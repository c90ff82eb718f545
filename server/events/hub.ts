/**
 * The subscribers of one instance, and the one LISTEN connection that feeds
 * them: every instance LISTENs on the same channel, so an event committed
 * anywhere reaches every subscriber everywhere (PostgreSQL NOTIFY; PGlite,
 * one process, has the same). Subscribers are bounded per user and in total:
 * past a bound the answer is TOO_MANY_SUBSCRIPTIONS, never more memory.
 */
import type { Database } from "../db/database.ts";
import { appError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { LIVE_CHANNEL, parseNotice, type LiveNotice } from "./live-event.ts";

/** How long events are kept for resumption. */
const LIVE_EVENT_RETENTION_MS = 60 * 60 * 1000;
const PRUNE_EVERY_MS = 10 * 60 * 1000;

type Subscriber = (notice: LiveNotice) => void;

export interface HubLimits {
  maxSubscribers: number;
  maxPerUser: number;
}

export class LiveEventHub {
  #byUser = new Map<string, Set<Subscriber>>();
  #total = 0;
  #unlisten: (() => Promise<void>) | undefined;
  #prune: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: { db: Pick<Database, "listen" | "query">; log: Logger; now: () => Date },
    private readonly limits: HubLimits,
  ) {}

  /** Starts listening (and pruning old events). */
  async start(): Promise<void> {
    this.#unlisten = await this.deps.db.listen(LIVE_CHANNEL, (payload) => {
      const notice = parseNotice(payload);
      if (notice) this.dispatch(notice);
    });
    this.#prune = setInterval(() => {
      const before = new Date(this.deps.now().getTime() - LIVE_EVENT_RETENTION_MS);
      this.deps.db.query('DELETE FROM "live_events" WHERE "at" < $1', [before]).catch((error: unknown) => this.deps.log.warn({ err: error }, "live events could not be pruned"));
    }, PRUNE_EVERY_MS);
    this.#prune.unref();
  }

  /** Open subscriptions on this instance. */
  get size(): number {
    return this.#total;
  }

  /** Adds a subscriber for a user; throws TOO_MANY_SUBSCRIPTIONS past a bound. Returns its removal. */
  subscribe(userId: string, subscriber: Subscriber): () => void {
    const mine = this.#byUser.get(userId) ?? new Set<Subscriber>();
    if (this.#total >= this.limits.maxSubscribers || mine.size >= this.limits.maxPerUser) throw appError("TOO_MANY_SUBSCRIPTIONS");
    mine.add(subscriber);
    this.#byUser.set(userId, mine);
    this.#total++;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      mine.delete(subscriber);
      this.#total--;
      if (mine.size === 0 && this.#byUser.get(userId) === mine) this.#byUser.delete(userId);
    };
  }

  /** Hands a notice to the subscribers of its user on this instance. */
  dispatch(notice: LiveNotice): void {
    const subscribers = this.#byUser.get(notice.userId);
    if (!subscribers) return;
    for (const subscriber of subscribers) subscriber(notice);
  }

  async close(): Promise<void> {
    clearInterval(this.#prune);
    await this.#unlisten?.();
  }
}
