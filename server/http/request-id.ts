/** `x-request-id`: the client's own when it is a safe token, otherwise a new one. */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const assigned = new WeakMap<IncomingMessage, string>();

/** The request id to use (and echo) for this request; the same on every call. */
export function requestIdOf(req: IncomingMessage): string {
  let id = assigned.get(req);
  if (id === undefined) {
    const given = req.headers["x-request-id"];
    id = typeof given === "string" && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
    assigned.set(req, id);
  }
  return id;
}
