/**
 * The one place HTTP requests are timed and traced (server/http/server.ts
 * calls it for every request). When the answer is sent, each call of the
 * request is observed under its procedure label (server/observability/
 * request-labels.ts) with its own status: the status tRPC gave that call when
 * it failed, otherwise the response's (a mixed batch answers 207, and its
 * successful calls count as 200). `auth.login` calls also count as sign-ins
 * by result, and RATE_LIMITED / OVERLOADED calls as limited answers.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AnyTRPCRouter } from "@trpc/server";
import type { FailedCall, Observability } from "./observability.ts";
import { requestLabeler } from "./request-labels.ts";
import type { RequestSpan, SpanAttributes } from "./tracing.ts";

const SIGN_IN = "auth.login";
/** A multi-status batch answer: its calls did not all end alike. */
const MULTI_STATUS = 207;

/** Returns the request hook for a router's procedures. */
export function observeRequests(
  observability: Observability,
  router: AnyTRPCRouter,
): (req: IncomingMessage, res: ServerResponse, path: string, handle: () => void) => void {
  const { metrics, tracing } = observability;
  const { labelsOf, procedureLabel } = requestLabeler(router);

  /** Observes each call; returns the appCodes of those that failed. */
  const record = (req: IncomingMessage, labels: readonly string[], status: number, seconds: number): string[] => {
    const failures = observability.takeFailures(req);
    const codes: string[] = [];
    for (const procedure of labels) {
      // A single call owns whatever failed; in a batch each failure names its call.
      const index = failures?.findIndex((f) => labels.length === 1 || procedureLabel(f.path) === procedure) ?? -1;
      const failed: FailedCall | undefined = index >= 0 ? failures!.splice(index, 1)[0] : undefined;
      if (failed !== undefined) codes.push(failed.appCode);
      const callStatus = failed?.status ?? (status === MULTI_STATUS ? 200 : status);
      metrics.observeCall(procedure, callStatus, seconds);
      if (failed?.appCode === "RATE_LIMITED" || failed?.appCode === "OVERLOADED") metrics.countLimited(procedure, failed.appCode);
      if (procedure === SIGN_IN) metrics.countSignIn(callStatus === 200 ? "success" : (failed?.appCode ?? String(callStatus)));
    }
    return codes;
  };

  return (req, res, path, handle) => {
    const started = performance.now();
    const labels = labelsOf(req.method, path, req.url);
    let span: RequestSpan | undefined;
    res.once("finish", () => {
      const seconds = (performance.now() - started) / 1000;
      const codes = record(req, labels, res.statusCode, seconds);
      span?.end(res.statusCode, codes.length > 0 ? { "gatehouse.app_codes": codes.join(",") } : {});
    });
    if (tracing === null) return handle();
    const name = labels.length === 1 ? labels[0]! : "batch";
    const attributes: SpanAttributes = { "http.request.method": req.method ?? "", "http.route": name };
    if (labels.length > 1) attributes["gatehouse.procedures"] = labels.join(",");
    span = tracing.request(name, attributes, handle);
  };
}
