/**
 * The tRPC standalone adapter under `/trpc`, with the limits of docs/API.md
 * and `Retry-After` on RATE_LIMITED / OVERLOADED answers.
 */
import type { IncomingMessage } from "node:http";
import type { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { appRouter } from "../../routers/_app.ts";
import type { Context } from "../context.ts";
import type { Services } from "../services.ts";
import { onProcedureError, requestContexts, retryAfterMeta } from "./request-context.ts";
import { createFastTrpcHandler } from "./trpc-fast.ts";
import type { Route } from "./route.ts";
import { API_HEADERS, isJsonContentType, MAX_BODY_BYTES, refuseDeclaredOversize, sendTrpcError } from "./wire.ts";

/** Most calls in one batch (docs/API.md). */
export const MAX_BATCH_SIZE = 10;

/** Builds the route for `/trpc/*`. */
export function createTrpcRoute(services: Services): Route {
  const contextOf = requestContexts(services);
  const options = {
    router: appRouter,
    basePath: "/trpc/",
    maxBatchSize: MAX_BATCH_SIZE,
    maxBodySize: MAX_BODY_BYTES,
    // `info` is tRPC's TRPCRequestInfo; only subscriptions carry connectionParams.
    createContext: ({ req, info }: { req: IncomingMessage; info?: unknown }) =>
      contextOf(req, (info as { connectionParams?: Record<string, string | undefined> | null } | undefined)?.connectionParams),
    responseMeta: ({ errors }: { errors: TRPCError[] }) => retryAfterMeta(errors),
    onError: ({ error, path, req, ctx }: { error: TRPCError; path: string | undefined; req: IncomingMessage; ctx: Context | undefined }) =>
      onProcedureError(services, error, path, req, ctx),
  };
  // TRPC_ADAPTER=fast (the default) answers the common requests without the
  // Fetch API round trip, byte for byte as the stock adapter, and hands it the rest.
  const handler = services.config.trpcAdapter === "stock" ? createHTTPHandler(options) : createFastTrpcHandler(options);

  return (req, res, path) => {
    if (path !== "/trpc" && !path.startsWith("/trpc/")) return false;
    for (const [name, value] of Object.entries(API_HEADERS)) res.setHeader(name, value);
    if (refuseDeclaredOversize(req, res, sendTrpcError)) return true;
    if (req.method === "POST" && !isJsonContentType(req.headers["content-type"])) {
      // tRPC also accepts multipart/form-data and application/octet-stream
      // bodies; no procedure here takes one, and form posts are exactly what a
      // cross-site page can send without a preflight.
      sendTrpcError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
      return true;
    }
    handler(req, res);
    return true;
  };
}
