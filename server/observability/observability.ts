/**
 * The observability of one set of services: its metrics registry, its tracer
 * (null when tracing is off), and the failed calls of requests in flight,
 * which tRPC's and the REST bridge's `onError` report so that each call of a
 * batch is counted with its own status and appCode.
 */
import type { IncomingMessage } from "node:http";
import type { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { appCodeOf, type AppCode } from "../errors.ts";
import { Metrics, type MetricSources } from "./metrics.ts";
import type { Tracing } from "./tracing.ts";

/** One failed call of a request. */
export interface FailedCall {
  path: string | undefined;
  status: number;
  appCode: AppCode;
}

export class Observability {
  readonly metrics: Metrics;
  readonly tracing: Tracing | null;
  readonly #failures = new WeakMap<IncomingMessage, FailedCall[]>();

  constructor(sources: MetricSources, tracing: Tracing | null) {
    this.metrics = new Metrics(sources);
    this.tracing = tracing;
  }

  /** Notes a call of this request that failed (from `onError`). */
  callFailed(req: IncomingMessage, path: string | undefined, error: TRPCError): void {
    const failed: FailedCall = { path, status: getHTTPStatusCodeFromError(error), appCode: appCodeOf(error) };
    const list = this.#failures.get(req);
    if (list === undefined) this.#failures.set(req, [failed]);
    else list.push(failed);
  }

  /** The failed calls noted for a request (and forgets them). */
  takeFailures(req: IncomingMessage): FailedCall[] | undefined {
    const list = this.#failures.get(req);
    if (list !== undefined) this.#failures.delete(req);
    return list;
  }
}
