/**
 * The tRPC standalone adapter under `/trpc`, with the limits of API.md section 2
 * and `Retry-After` on RATE_LIMITED / OVERLOADED answers.
 */
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import type { IncomingMessage, ServerResponse } from "node:http";
import { appRouter } from "../../routers/_app.ts";
import { createContextInner } from "../context.ts";
import { AppError, appCodeOf } from "../errors.ts";
import type { Services } from "../services.ts";
import { clientIpOf } from "./client-ip.ts";

/** Largest accepted request body (API.md section 2). */
export const MAX_BODY_BYTES = 100 * 1024;
/** Most calls in one batch (API.md section 2). */
export const MAX_BATCH_SIZE = 10;

/** Per-request values the HTTP layer hands to tRPC. */
export interface RequestInfo {
  requestId: string;
}

export const requestInfo = new WeakMap<IncomingMessage, RequestInfo>();

/** Builds the `(req, res)` handler for `/trpc/*`. */
export function createTrpcHandler(services: Services): (req: IncomingMessage, res: ServerResponse) => void {
  return createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    maxBatchSize: MAX_BATCH_SIZE,
    maxBodySize: MAX_BODY_BYTES,
    createContext: ({ req }) =>
      createContextInner({
        services,
        authorization: req.headers.authorization ?? null,
        meta: { ip: clientIpOf(req, services.config.trustProxy), userAgent: req.headers["user-agent"] ?? null },
        requestId: requestInfo.get(req)?.requestId,
      }),
    responseMeta({ errors }) {
      const retryAfter = Math.max(0, ...errors.map((e) => (e instanceof AppError ? (e.retryAfter ?? 0) : 0)));
      return retryAfter > 0 ? { headers: { "retry-after": String(Math.ceil(retryAfter)) } } : {};
    },
    onError({ error, path, req }) {
      if (appCodeOf(error) !== "INTERNAL") return;
      services.log.error(
        { err: error.cause ?? error, path, requestId: requestInfo.get(req)?.requestId },
        "unexpected error in procedure",
      );
    },
  });
}
