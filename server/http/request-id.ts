/** `x-request-id`: the client's own when it is a safe token, otherwise a new one. */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The request id to use (and echo) for this request. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  return typeof given === "string" && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
}
