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
}

/** Seconds: from a fast `auth.me` (~1 ms) to a bcrypt login under load (seconds). */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The metrics of one server process (one worker). */
export class Metrics {
  readonly registry = new Registry();
  readonly #duration: RequestHistogram;
  readonly #signIns: Counter<"result">;
  readonly #limited: Counter<"procedure" | "code">;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.#duration = new RequestHistogram({
      name: "gatehouse_request_duration_seconds",
      help: "HTTP request duration by procedure (or route) and HTTP status; each call of a batch counts under its own procedure",
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#signIns = new Counter({
      name: "gatehouse_sign_ins_total",
      help: "auth.login calls by result: success, or the appCode of the refusal",
      labelNames: ["result"],
      registers,
    });
    this.#limited = new Counter({
      name: "gatehouse_rate_limited_total",
      help: "Calls refused by a limit: RATE_LIMITED (per IP, per email) or OVERLOADED (hashing queue full)",
      labelNames: ["procedure", "code"],
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

  /** One `auth.login` answered: "success", or the appCode it was refused with. */
  countSignIn(result: string): void {
    this.#signIns.inc({ result });
  }

  /** One call refused by a limit. */
  countLimited(procedure: string, code: "RATE_LIMITED" | "OVERLOADED"): void {
    this.#limited.inc({ procedure, code });
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
