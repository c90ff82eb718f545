/**
 * WEB_CONCURRENCY > 1: the primary process forks that many workers, each of
 * which builds its own services and listens on the same port (node:cluster
 * hands connections to them in turn). The primary serves nothing itself:
 *
 * - it resolves the JWT secret and the encryption key once and passes them
 *   down, so a token signed by one worker verifies on every other and a value
 *   sealed by one opens on every other (development values would otherwise be
 *   generated per worker);
 * - SIGTERM/SIGINT are forwarded to every worker, each finishes its requests
 *   in flight and closes its database; the primary exits when all are gone,
 *   0 if they all exited 0;
 * - a worker that dies after it was listening is replaced; one that dies
 *   before it ever listened is a start-up failure (bad database URL, failed
 *   migration): the others are stopped and the primary exits 1, rather than
 *   restart a worker that cannot start in a loop.
 *
 * - without REDIS_URL the rate-limit counters live in the primary and the
 *   workers consult it over IPC, so the limits hold across workers;
 * - it gathers the workers' metrics for a scrape of `/metrics` on any of them
 *   (server/observability/cluster-metrics.ts).
 *
 * Each worker applies pending migrations at start-up like a single process;
 * the migration runner's advisory lock makes them take turns.
 */
import cluster, { type Worker } from "node:cluster";
import { RateLimiterClusterMaster } from "rate-limiter-flexible";
import type { Config } from "./env.ts";
import type { Logger } from "./log.ts";
import { serveClusterMetrics } from "./observability/cluster-metrics.ts";
import { resolveJwtSecret } from "./secrets/jwt-secret.ts";
import { resolveEncryptionKey } from "./secrets/sealer.ts";

export function runPrimary(config: Config, log: Logger): void {
  const secret = resolveJwtSecret(config, log);
  const key = resolveEncryptionKey(config, log);
  const env = {
    ...(secret === undefined ? {} : { JWT_SECRET: secret }),
    ...(key === null ? {} : { ENCRYPTION_KEY: key.toString("base64") }),
  };
  // Without Redis the workers keep their rate-limit counters here, in one place
  // (server/limits/rate-limit.ts), so N workers do not allow N times the limit.
  if (config.redisUrl === undefined) new RateLimiterClusterMaster();
  // A scrape of /metrics on any worker gets every worker's numbers, gathered here.
  serveClusterMetrics();
  const listening = new WeakSet<Worker>();
  let stopping = false;
  let failed = false;
  let ready = 0;

  const fork = () => {
    const worker = cluster.fork(env);
    worker.once("listening", () => {
      listening.add(worker);
      if (++ready === config.webConcurrency) {
        log.info({ workers: config.webConcurrency, primaryPid: process.pid }, "gatehouse cluster ready");
      }
    });
  };

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, workers: Object.keys(cluster.workers ?? {}).length }, "shutting down: stopping workers");
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };

  cluster.on("exit", (worker, code, signal) => {
    if (!stopping) {
      if (listening.has(worker)) {
        log.error({ pid: worker.process.pid, code, signal }, "worker died: starting another");
        fork();
        return;
      }
      log.error({ pid: worker.process.pid, code, signal }, "worker failed to start: stopping the others");
      failed = true;
      stop("SIGTERM");
    } else if (code !== 0) {
      failed = true;
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) {
      log.info({ code: failed ? 1 : 0 }, "stopped");
      process.exit(failed ? 1 : 0);
    }
  });

  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  for (let i = 0; i < config.webConcurrency; i++) fork();
}
