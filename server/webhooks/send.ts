/**
 * One HTTP attempt of a webhook: a POST to the checked addresses only, a
 * deadline over the whole exchange, no redirect followed (a 3xx is a failed
 * attempt: following it would post to a target nobody checked), and no more
 * of the answer kept than a short snippet for the admin.
 */
import http from "node:http";
import https from "node:https";
import type { LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";

/** How much of a response body an attempt records (characters). */
const RESPONSE_SNIPPET_CHARS = 200;
/** How much of a response body is read at most before the connection is dropped. */
const RESPONSE_READ_BYTES = 1024;

/** What one attempt came to. */
export interface SendResult {
  /** 2xx: delivered. */
  ok: boolean;
  /** The HTTP status, or null when no answer came. */
  statusCode: number | null;
  /** Why it failed, in a few words (never the body), or null. */
  error: string | null;
  /** The start of the response body, or null. */
  response: string | null;
}

export interface SendRequest {
  url: URL;
  /** The addresses the target was checked against; the connection goes to one of these. */
  addresses: LookupAddress[];
  headers: Record<string, string>;
  body: string;
  /** Deadline for the whole exchange, in ms. */
  timeoutMs: number;
}

/** A `lookup` that answers with the addresses already checked, never asking DNS again. */
function pinnedLookup(addresses: LookupAddress[]): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  }) as LookupFunction;
}

/** Posts `body` once; resolves with the outcome, never rejects. */
export function sendWebhook(request: SendRequest): Promise<SendResult> {
  const { url, body } = request;
  const transport = url.protocol === "https:" ? https : http;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      resolve(result);
    };
    const req = transport.request(url, {
      method: "POST",
      headers: { ...request.headers, "content-length": String(Buffer.byteLength(body)) },
      lookup: pinnedLookup(request.addresses),
      // A fresh connection per attempt: a pooled socket might have been opened before the last check.
      agent: false,
    });
    const deadline = setTimeout(
      () => finish({ ok: false, statusCode: null, error: `timed out after ${request.timeoutMs} ms`, response: null }),
      request.timeoutMs,
    );
    req.on("error", (error: NodeJS.ErrnoException) =>
      finish({ ok: false, statusCode: null, error: error.code ?? error.message, response: null }),
    );
    req.on("response", (res) => {
      const statusCode = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let read = 0;
      const done = () => {
        const text = Buffer.concat(chunks).toString("utf8").slice(0, RESPONSE_SNIPPET_CHARS);
        const ok = statusCode >= 200 && statusCode < 300;
        const error = ok ? null : statusCode >= 300 && statusCode < 400 ? `redirect not followed (HTTP ${statusCode})` : `HTTP ${statusCode}`;
        finish({ ok, statusCode, error, response: text === "" ? null : text });
      };
      res.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        read += chunk.length;
        if (read >= RESPONSE_READ_BYTES) done();
      });
      res.on("end", done);
      res.on("error", done);
    });
    req.end(body);
  });
}
