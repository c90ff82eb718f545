/**
 * Per-request facts gathered while a request runs, for its one log line: the
 * client IP (read once, under TRUST_PROXY), and the trace the procedures fill
 * in (user, appCode). Kept beside the Node request rather than on it.
 */
import type { IncomingMessage } from "node:http";
import type { RequestTrace } from "../context.ts";

interface RequestFacts {
  ip: string | null;
  trace: RequestTrace;
}

const facts = new WeakMap<IncomingMessage, RequestFacts>();

/** Starts the facts of a request; called once, when it arrives. */
export function startRequestFacts(req: IncomingMessage, ip: string | null): RequestFacts {
  const started: RequestFacts = { ip, trace: { userId: null, appCode: null } };
  facts.set(req, started);
  return started;
}

/** The facts of a request started by the server (a request made elsewhere, e.g. in a test, gets fresh ones). */
export function requestFactsOf(req: IncomingMessage, readIp: (req: IncomingMessage) => string | null): RequestFacts {
  return facts.get(req) ?? startRequestFacts(req, readIp(req));
}
