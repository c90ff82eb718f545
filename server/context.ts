/**
 * The tRPC context: the shared services plus what one request says about
 * itself. `createContextInner` is what tests and `createCaller` use; the HTTP
 * layer derives the same inputs from the Node request.
 */
import type { RequestMeta } from "./deps.ts";
import type { Services } from "./services.ts";

export interface ContextInput {
  services: Services;
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
  };
}
