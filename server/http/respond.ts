/** Small JSON responses for answers given outside tRPC's own handler. */
import type { ServerResponse } from "node:http";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { messageOf, trpcCodeOf, type AppCode } from "../errors.ts";

/** Writes a JSON body with a status. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(payload) });
  res.end(payload);
}

/** An error in tRPC's superjson envelope, for refusals made before tRPC sees the request. */
export function sendTrpcError(res: ServerResponse, status: number, appCode: AppCode): void {
  const code = trpcCodeOf(appCode);
  sendJson(res, status, {
    error: { json: { message: messageOf(appCode), code: TRPC_ERROR_CODES_BY_KEY[code], data: { code, httpStatus: status, appCode } } },
  });
}
