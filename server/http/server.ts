/**
 * The HTTP server: one `node:http` server routing `/trpc`, the health probes
 * and the other routes in `server/http/`. Building it is separate from
 * listening: only `main.ts` listens, tests listen on port 0.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createCorsRoute } from "./cors.ts";
import { createDocsRoute } from "./docs.ts";
import { createHealthRoutes } from "./health-routes.ts";
import { createJwksRoute } from "./jwks.ts";
import { createOAuthRoutes } from "./oauth-routes.ts";
import { createLinkPagesRoute } from "./link-pages.ts";
import { createPanelRoute } from "./panel.ts";
import { createRestRoutes } from "./rest.ts";
import { requestIdOf } from "./request-id.ts";
import { clientIpReader } from "./client-ip.ts";
import { startRequestFacts } from "./request-trace.ts";
import type { Route } from "./route.ts";
import { createTrpcRoute } from "./trpc-handler.ts";
import { sendError } from "./wire.ts";
import { appRouter } from "../../routers/_app.ts";
import { createMetricsRoute } from "../observability/metrics-route.ts";
import { observeRequests } from "../observability/requests.ts";
import { requestLogger } from "../log.ts";
import type { Services } from "../services.ts";

/** Creates (but does not start) the HTTP server for a set of services. */
export function createServer(services: Services): Server {
  const { log } = services;
  const requestLog = requestLogger(log);
  const readIp = clientIpReader(services.config.trustProxy);
  // First match wins; each route answers the paths it owns and returns true.
  // The CORS pre-handler comes first: it only adds headers, or answers a preflight.
  const routes: Route[] = [
    createCorsRoute(services.config),
    createTrpcRoute(services),
    ...createHealthRoutes(services),
    createJwksRoute(services),
    createOAuthRoutes(services),
    ...createRestRoutes(services),
    createPanelRoute(services),
    createDocsRoute(services),
    createLinkPagesRoute(),
    createMetricsRoute(services.config, services.observability.metrics, log),
  ];
  // Times (and, with tracing on, traces) every request under its procedure.
  const observe = observeRequests(services.observability, appRouter);

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    for (const handle of routes) {
      if (await handle(req, res, path)) return;
    }
    sendError(res, 404, "NOT_FOUND");
  }

  return createHttpServer((req, res) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req);
    res.setHeader("x-request-id", requestId);
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    const { ip, trace } = startRequestFacts(req, readIp(req));
    res.on("finish", () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      // The query string is left out: tRPC GET inputs travel there. The user
      // is the one a bearer token resolved to; appCode is the last error's.
      requestLog.info(
        { requestId, method: req.method, path, status: res.statusCode, durationMs: Math.round(durationMs * 100) / 100, ip, userId: trace.userId, appCode: trace.appCode },
        "request",
      );
    });
    observe(req, res, path, () =>
      route(req, res, path).catch((error: unknown) => {
        log.error({ err: error, requestId }, "unhandled error in HTTP handler");
        if (!res.headersSent) sendError(res, 500, "INTERNAL");
        else res.destroy();
      }),
    );
  });
}
