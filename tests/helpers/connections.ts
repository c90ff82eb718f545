/** Raw HTTP calls that each open their own TCP connection, for tests of requests arriving at once. */
import { request } from "node:http";

export interface RawAnswer {
  status: number;
  retryAfter: string | undefined;
  body: any;
}

/** POSTs a JSON body on a connection of its own (no keep-alive agent), so calls really run in parallel. */
export function postOnOwnConnection(url: string, body: unknown, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", agent: false, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"], body: JSON.parse(text) });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** The appCode of each call in a tRPC answer (one for a single call, one per call of a batch). */
export function appCodesOf(answer: RawAnswer): string[] {
  const results = Array.isArray(answer.body) ? answer.body : [answer.body];
  return results.map((r: any) => (r.error ? String(r.error.json.data.appCode) : "OK"));
}

/** How many times each value occurs. */
export function tally(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
