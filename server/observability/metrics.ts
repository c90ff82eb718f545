/**
 * What `GET /metrics` shows (prom-client), one registry per set of services.
 *
 * Counted as things happen: request durations per procedure and status, sign-ins
 * by result, rate-limited answers. Read at scrape time from what already keeps
 * the numbers: the password hasher's pool, the database pool, where the
 * limit counters live; and prom-client's default process and Node.js metrics
 * (CPU, memory, file descriptors, GC, event-loop lag).
 *
 * Label values come from fixed sets only (procedure names of the router, a
 * few route names, HTTP statuses, appCodes), so no client can grow the number
 * of series: see server/observability/request-labels.ts.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { PoolStats } from "../db/database.ts";
import type { HasherLoad } from "../passwords/hasher.ts";
import { RequestHistogram } from "./request-histogram.ts";

/** Where the scrape-time numbers are read from. */
export interface MetricSources {
  hasherLoad(): HasherLoad;
  poolStats(): PoolStats;
  /** Where the rate-limit counters live now: memory, redis, or memory-fallback while Redis is down. */
  limitStore(): string;
  /** Webhook deliveries not yet delivered, by status (a query of the shared outbox). */
  webhookBacklog(): Promise<Record<"pending" | "delivering" | "failed", number>>;
}

/** What the security log (server/audit/security-log.ts) tells the counters of each auth decision. */
export interface CountedDecision {
  event: string;
  outcome: "success" | "failure";
  appCode?: string | null;
  limit?: string;
}

/** Seconds: from a fast `auth.me` (~1 ms) to a bcrypt login under load (seconds). */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The metrics of one server process (one worker). */
export class Metrics {
  readonly registry = new Registry();
  readonly #duration: RequestHistogram;
  readonly #decisions: Counter<"event" | "outcome" | "code" | "limit">;
  readonly #signIns: Counter<"result">;
  readonly #lockouts: Counter;
  readonly #limited: Counter<"event" | "code" | "limit">;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.#duration = new RequestHistogram({
      name: "gatehouse_request_duration_seconds",
      help: "HTTP request duration by procedure (or route) and HTTP status; each call of a batch counts under its own procedure",
      buckets: DURATION_BUCKETS,
      registers,
    });
    // The next four count the lines of the security log, from the function that writes them.
    this.#decisions = new Counter({
      name: "gatehouse_security_events_total",
      help: "Auth decisions, one per security log line: event, outcome, appCode of a refusal (none on success), limit of a RATE_LIMITED (none otherwise)",
      labelNames: ["event", "outcome", "code", "limit"],
      registers,
    });
    this.#signIns = new Counter({
      name: "gatehouse_sign_ins_total",
      help: "auth.login decisions by result: success, or the appCode of the refusal",
      labelNames: ["result"],
      registers,
    });
    this.#lockouts = new Counter({
      name: "gatehouse_login_lockouts_total",
      help: "Sign-ins refused because the email is locked after LOGIN_MAX_FAILURES failures (RATE_LIMITED, limit account)",
      registers,
    });
    this.#limited = new Counter({
      name: "gatehouse_rate_limited_total",
      help: "Decisions refused by a limit: RATE_LIMITED (limit ip, account or recipient) or OVERLOADED (hashing queue full)",
      labelNames: ["event", "code", "limit"],
      registers,
    });
    scrapeGauge(registers, "gatehouse_password_hash_queue_depth", "Password checks waiting for a hashing slot", () => sources.hasherLoad().waiting);
    scrapeGauge(registers, "gatehouse_password_hash_running", "Password hashes running now", () => sources.hasherLoad().running);
    scrapeGauge(registers, "gatehouse_password_hash_slots", "Hashes allowed to run at once (hashing threads)", () => sources.hasherLoad().concurrency);
    scrapeCounter(
      registers,
      "gatehouse_password_hash_busy_seconds_total",
      "Slot-seconds spent hashing; rate() over gatehouse_password_hash_slots is the pool's utilisation",
      () => sources.hasherLoad().busySeconds,
    );
    scrapeCounter(
      registers,
      "gatehouse_password_hash_refused_total",
      "Password checks refused at once (OVERLOADED) because PASSWORD_QUEUE_MAX were already waiting",
      () => sources.hasherLoad().refused,
    );
    new Gauge({
      name: "gatehouse_db_pool_connections",
      help: "Database connections: max (pool size), open, idle. Embedded PGlite: one session",
      labelNames: ["state"],
      registers,
      collect() {
        const stats = sources.poolStats();
        this.set({ state: "max" }, stats.max);
        this.set({ state: "open" }, stats.total);
        this.set({ state: "idle" }, stats.idle);
      },
    });
    scrapeGauge(registers, "gatehouse_db_pool_waiting", "Queries waiting for a free database connection", () => sources.poolStats().waiting);
    new Gauge({
      name: "gatehouse_webhook_backlog",
      help: "Webhook deliveries in the outbox by state: pending (waiting for an attempt or a retry), delivering (an attempt running), failed (retries spent)",
      labelNames: ["state"],
      registers,
      // One outbox for every instance: each worker reads the same numbers, so a cluster scrape takes the largest, not the sum.
      aggregator: "max",
      async collect() {
        this.reset();
        try {
          const backlog = await sources.webhookBacklog();
          for (const [state, count] of Object.entries(backlog)) this.set({ state }, count);
        } catch {
          // The database is unreachable: no numbers rather than stale ones, and the rest of the scrape still answers.
        }
      },
    });
    new Gauge({
      name: "gatehouse_rate_limit_store",
      help: "1 for where the rate-limit counters live now: memory, redis, or memory-fallback (Redis unreachable)",
      labelNames: ["store"],
      registers,
      collect() {
        this.reset();
        this.set({ store: sources.limitStore() }, 1);
      },
    });
  }

  /** One call answered: its duration, under its procedure (or route) and HTTP status. */
  observeCall(procedure: string, status: number, seconds: number): void {
    this.#duration.observe(procedure, status, seconds);
  }

  /** One auth decision, as the security log writes it (and from the same call). */
  countDecision(d: CountedDecision): void {
    const code = d.appCode ?? "none";
    const limit = d.limit ?? "none";
    this.#decisions.inc({ event: d.event, outcome: d.outcome, code, limit });
    if (d.event === "auth.login") {
      this.#signIns.inc({ result: d.outcome === "success" ? "success" : code });
      if (code === "RATE_LIMITED" && limit === "account") this.#lockouts.inc();
    }
    if (code === "RATE_LIMITED" || code === "OVERLOADED") this.#limited.inc({ event: d.event, code, limit });
  }

  /** The Prometheus text of this process's registry. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

function scrapeGauge(registers: Registry[], name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers,
    collect() {
      this.set(read());
    },
  });
}

/** A counter whose running total is kept elsewhere and read at scrape time. */
function scrapeCounter(registers: Registry[], name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
