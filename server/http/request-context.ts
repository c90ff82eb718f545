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
import { clientIpOf } from "./client-ip.ts";
import { requestIdOf } from "./request-id.ts";

/**
 * The tRPC context of one HTTP request. `connectionParams` are a subscription's
 * (tRPC puts them in the URL's query, which the request log leaves out): a
 * browser's own EventSource cannot send headers, so the bearer token may come
 * as `connectionParams.authorization`; the header wins when both are present.
 */
export function contextOfRequest(services: Services, req: IncomingMessage, connectionParams?: Record<string, string | undefined> | null): Context {
  return createContextInner({
    services,
    authorization: req.headers.authorization ?? connectionParams?.authorization ?? null,
    meta: { ip: clientIpOf(req, services.config.trustProxy), userAgent: req.headers["user-agent"] ?? null },
    requestId: requestIdOf(req),
  });
}

/** `Retry-After` (whole seconds) when an error carries a retry delay (RATE_LIMITED, OVERLOADED). */
export function retryAfterMeta(errors: readonly TRPCError[]): { headers?: Record<string, string> } {
  const retryAfter = Math.max(0, ...errors.map((e) => (e instanceof AppError ? (e.retryAfter ?? 0) : 0)));
  return retryAfter > 0 ? { headers: { "retry-after": String(Math.ceil(retryAfter)) } } : {};
}

/** Notes each failed call for the request's metrics; logs the errors nobody threw on purpose (INTERNAL), with the request id. */
export function logUnexpectedError(services: Services, error: TRPCError, path: string | undefined, req: IncomingMessage): void {
  services.observability.callFailed(req, path, error);
  if (appCodeOf(error) !== "INTERNAL") return;
  services.log.error({ err: error.cause ?? error, path, requestId: requestIdOf(req) }, "unexpected error in procedure");
}
