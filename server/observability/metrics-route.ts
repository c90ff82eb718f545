/**
 * `GET /metrics`: the Prometheus text of this process, or of the whole
 * process group under WEB_CONCURRENCY > 1 (server/observability/
 * cluster-metrics.ts).
 *
 * With METRICS_TOKEN set it asks for `Authorization: Bearer <METRICS_TOKEN>`,
 * compared in constant time (digests of equal length through
 * `crypto.timingSafeEqual`, so neither the content nor the length of the
 * token leaks through timing). In production without METRICS_TOKEN the path
 * does not exist (404): the numbers describe the service's load and limits,
 * which are not for everyone (OWASP Logging Cheat Sheet, "Protection").
 * Outside production without a token it is open, for a local Prometheus.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import cluster from "node:cluster";
import type { Config } from "../env.ts";
import type { Route } from "../http/route.ts";
import { allowMethods, sendContent, sendError } from "../http/wire.ts";
import type { Logger } from "../log.ts";
import { joinClusterMetrics } from "./cluster-metrics.ts";
import type { Metrics } from "./metrics.ts";


const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/** Whether an Authorization header carries exactly the token. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer (.+)$/i.exec(header ?? "")?.[1] ?? "";
  return timingSafeEqual(digest(presented), digest(token));
}

/** Builds the `/metrics` route. */
export function createMetricsRoute(config: Pick<Config, "metricsToken" | "production">, metrics: Metrics, log: Logger): Route {
  const token = config.metricsToken;
  // Under WEB_CONCURRENCY > 1 every worker can be the one scraped: each answers with the group's numbers.
  const text = cluster.isWorker ? joinClusterMetrics(metrics.registry) : () => metrics.text();
  return async (req, res, path) => {
    if (path !== "/metrics") return false;
    if (token === undefined && config.production) return false;
    if (!allowMethods(req, res, ["GET", "HEAD"])) return true;
    if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
      res.setHeader("www-authenticate", 'Bearer realm="metrics"');
      sendError(res, 401, req.headers.authorization === undefined ? "TOKEN_MISSING" : "TOKEN_INVALID");
      return true;
    }
    let body: string;
    try {
      body = await text();
    } catch (error) {
      log.error({ err: error }, "metrics could not be gathered");
      sendError(res, 503, "OVERLOADED");
      return true;
    }
    sendContent(req, res, { "content-type": metrics.registry.contentType, "cache-control": "no-store" }, body);
    return true;
  };
}
