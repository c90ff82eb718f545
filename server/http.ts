/**
 * The HTTP server: one `node:http` server routing `/trpc`, the health probes
 * and (later) the panel and REST bridge. Building it is separate from
 * listening: only `main.ts` listens, tests listen on port 0.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { messageOf } from "./errors.ts";
import { sendJson, sendTrpcError } from "./http/respond.ts";
import { requestIdOf } from "./http/request-id.ts";
import { createTrpcHandler, MAX_BODY_BYTES, requestInfo } from "./http/trpc-handler.ts";
import type { Services } from "./services.ts";

/** Headers on every `/trpc` and `/api` answer: never cached, never sniffed. */
const API_HEADERS = { "cache-control": "no-store", "x-content-type-options": "nosniff" } as const;

/** Creates (but does not start) the HTTP server for a set of services. */
export function createServer(services: Services): Server {
  const trpc = createTrpcHandler(services);
  const { log } = services;

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === "/trpc" || path.startsWith("/trpc/")) {
      for (const [name, value] of Object.entries(API_HEADERS)) res.setHeader(name, value);
      const length = Number(req.headers["content-length"] ?? 0);
      if (length > MAX_BODY_BYTES) {
        // Refuse at once rather than reading a large body only to drop it.
        res.setHeader("connection", "close");
        return sendTrpcError(res, 413, "PAYLOAD_TOO_LARGE");
      }
      return trpc(req, res);
    }
    if (path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
      return sendJson(res, 200, { status: "ok" });
    }
    if (path === "/readyz" && (req.method === "GET" || req.method === "HEAD")) {
      const ready = await services.db.ping();
      return sendJson(res, ready ? 200 : 503, { status: ready ? "ok" : "unavailable" });
    }
    sendJson(res, 404, { error: { code: "NOT_FOUND", message: messageOf("NOT_FOUND") } });
  }

  return createHttpServer((req, res) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req);
    requestInfo.set(req, { requestId });
    res.setHeader("x-request-id", requestId);
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    res.on("finish", () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      // The query string is left out: tRPC GET inputs travel there.
      log.info({ requestId, method: req.method, path, status: res.statusCode, durationMs: Math.round(durationMs * 100) / 100 }, "request");
    });
    route(req, res, path).catch((error: unknown) => {
      log.error({ err: error, requestId }, "unhandled error in HTTP handler");
      if (!res.headersSent) sendJson(res, 500, { error: { code: "INTERNAL", message: messageOf("INTERNAL") } });
      else res.destroy();
    });
  });
}
