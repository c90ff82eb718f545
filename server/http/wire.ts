/**
 * The wire: how every route in server/http reads a request and writes an
 * answer. JSON answers, the error envelopes (`{ error: { code, message } }`
 * and tRPC's), the body limit, the JSON content-type test and the method check
 * live here once.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { messageOf, trpcCodeOf, type AppCode } from "../errors.ts";

/** Largest accepted request body (docs/API.md). */
export const MAX_BODY_BYTES = 100 * 1024;
/** Headers on every `/trpc` and `/api` answer: never cached, never sniffed. */
export const API_HEADERS = { "cache-control": "no-store", "x-content-type-options": "nosniff" } as const;

/** Writes a JSON body with a status. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(payload) });
  res.end(payload);
}

/** A 200 answer with a fixed body (none for HEAD). */
export function sendContent(req: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders, content: string | Buffer): void {
  res.writeHead(200, { ...headers, "content-length": Buffer.byteLength(content) });
  res.end(req.method === "HEAD" ? undefined : content);
}

/** Sends an appCode's refusal in one of the two envelopes. */
export type ErrorSender = (res: ServerResponse, status: number, appCode: AppCode, message?: string) => void;

/** An error as every route but `/trpc` answers it: `{ error: { code, message } }`. */
export const sendError: ErrorSender = (res, status, appCode, message = messageOf(appCode)) => {
  sendJson(res, status, { error: { code: appCode, message } });
};

/** An error in tRPC's superjson envelope, for refusals made before tRPC sees the request. */
export const sendTrpcError: ErrorSender = (res, status, appCode, message = messageOf(appCode)) => {
  const code = trpcCodeOf(appCode);
  sendJson(res, status, {
    error: { json: { message, code: TRPC_ERROR_CODES_BY_KEY[code], data: { code, httpStatus: status, appCode } } },
  });
};

/** Whether the request's method is one of `methods`; if not, answers 405 with `Allow`. */
export function allowMethods(req: IncomingMessage, res: ServerResponse, methods: readonly string[]): boolean {
  if (methods.includes(req.method ?? "")) return true;
  res.setHeader("allow", methods.join(", "));
  sendError(res, 405, "METHOD_NOT_SUPPORTED");
  return false;
}

/** Whether a Content-Type header names JSON (`application/json`, any parameters); tRPC's own test. */
export function isJsonContentType(header: string | undefined): boolean {
  return header?.split(";", 1)[0]?.trim().toLowerCase() === "application/json";
}

/**
 * Refuses (413, closing the connection) a body declared larger than the limit,
 * at once rather than reading it only to drop it. Returns whether it did.
 */
export function refuseDeclaredOversize(req: IncomingMessage, res: ServerResponse, send: ErrorSender): boolean {
  if (Number(req.headers["content-length"] ?? 0) <= MAX_BODY_BYTES) return false;
  refuseOversize(res, send);
  return true;
}

/** 413, closing the connection: the rest of the body is not read. */
export function refuseOversize(res: ServerResponse, send: ErrorSender): void {
  res.setHeader("connection", "close");
  send(res, 413, "PAYLOAD_TOO_LARGE");
}

/** The request body, or null once it has grown past the limit. */
export async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
