/**
 * What every HTTP entry into the procedures (`/trpc`, the REST bridge under
 * `/api`) derives from the Node request: the same context, the same
 * `Retry-After` on limit answers, the same logging of unexpected errors.
 */
import type { IncomingMessage } from "node:http";
import type { TRPCError } from "@trpc/server";
import { createContextInner, type Context } from "../context.ts";
import { AppError, appCodeOf } from "../errors.ts";
import type { Services } from "../services.ts";
import { clientIpReader } from "./client-ip.ts";
import { requestIdOf } from "./request-id.ts";
import { requestFactsOf } from "./request-trace.ts";

/**
 * Builds the tRPC context of each HTTP request for a set of services.
 * `connectionParams` are a subscription's (tRPC puts them in the URL's query,
 * which the request log leaves out): a browser's own EventSource cannot send
 * headers, so the bearer token may come as `connectionParams.authorization`;
 * the header wins when both are present.
 */
export function requestContexts(services: Services): (req: IncomingMessage, connectionParams?: Record<string, string | undefined> | null) => Context {
  const readIp = clientIpReader(services.config.trustProxy);
  return (req, connectionParams) => {
    const { ip, trace } = requestFactsOf(req, readIp);
    return createContextInner({
      services,
      authorization: req.headers.authorization ?? connectionParams?.authorization ?? null,
      meta: { ip, userAgent: req.headers["user-agent"] ?? null },
      requestId: requestIdOf(req),
      trace,
    });
  };
}

/** `Retry-After` (whole seconds) when an error carries a retry delay (RATE_LIMITED, OVERLOADED). */
export function retryAfterMeta(errors: readonly TRPCError[]): { headers?: Record<string, string> } {
  const retryAfter = Math.max(0, ...errors.map((e) => (e instanceof AppError ? (e.retryAfter ?? 0) : 0)));
  return retryAfter > 0 ? { headers: { "retry-after": String(Math.ceil(retryAfter)) } } : {};
}

/**
 * Notes each failed call for the request's log line and metrics, and logs the
 * errors nobody threw on purpose (INTERNAL) with the request id.
 */
export function onProcedureError(services: Services, error: TRPCError, path: string | undefined, req: IncomingMessage, ctx: Context | undefined): void {
  services.observability.callFailed(req, path, error);
  const appCode = appCodeOf(error);
  if (ctx) ctx.trace.appCode = appCode;
  if (appCode !== "INTERNAL") return;
  services.log.error({ err: error.cause ?? error, path, requestId: requestIdOf(req) }, "unexpected error in procedure");
}
