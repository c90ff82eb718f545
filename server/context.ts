/**
 * The tRPC context: the shared services plus what one request says about
 * itself. `createContextInner` is what tests and `createCaller` use; the HTTP
 * layer derives the same inputs from the Node request.
 */
import type { RequestMeta } from "./deps.ts";
import type { Services } from "./services.ts";

/**
 * What the request's one log line reports about its outcome (server/http/server.ts):
 * the user a bearer token resolved to, and the appCode of the last error.
 * Shared by every call of a batch; the HTTP layer owns it.
 */
export interface RequestTrace {
  userId: string | null;
  appCode: string | null;
}

export interface ContextInput {
  services: Services;
  trace?: RequestTrace;
  /** The raw `Authorization` header, if any. */
  authorization?: string | null;
  meta?: Partial<RequestMeta>;
  requestId?: string;
}

export interface Context {
  services: Services;
  authorization: string | null;
  meta: RequestMeta;
  requestId: string | null;
  trace: RequestTrace;
}

/** Longest User-Agent we store; the rest is cut. */
const MAX_USER_AGENT = 512;

/** Builds a context from plain values. */
export function createContextInner(input: ContextInput): Context {
  return {
    services: input.services,
    authorization: input.authorization ?? null,
    meta: {
      ip: input.meta?.ip ?? null,
      userAgent: input.meta?.userAgent?.slice(0, MAX_USER_AGENT) ?? null,
    },
    requestId: input.requestId ?? null,
    trace: input.trace ?? { userId: null, appCode: null },
  };
}
