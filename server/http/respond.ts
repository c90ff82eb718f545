/** Small JSON responses for the routes that are not tRPC. */
import type { ServerResponse } from "node:http";

/** Writes a JSON body with a status. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(payload) });
  res.end(payload);
}
