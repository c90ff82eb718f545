/**
 * A real webhook receiver on port 0: it records every request (headers and
 * raw body) and answers what the test tells it to, so tests see exactly what
 * a receiver on the network sees.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll } from "vitest";

interface ReceivedRequest {
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** What the receiver answers a request with: a status (and body), or "hang" to hold it open until the receiver closes. */
type Answer = number | { status: number; body: string } | "hang";

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** Decides the answer to each request (default: 204). */
  answer: (request: ReceivedRequest, index: number) => Answer;
  close(): Promise<void>;
}

/** Starts a receiver; it is closed after the file's tests. */
export async function startReceiver(options: { redirectTo?: string } = {}): Promise<Receiver> {
  const elsewhere = options.redirectTo ?? "http://127.0.0.1:9/";
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]));
      const request = { headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() };
      requests.push(request);
      const answer = receiver.answer(request, requests.length - 1);
      if (answer === "hang") return;
      const { status, body } = typeof answer === "number" ? { status: answer, body: answer >= 400 ? `failing on purpose (${answer})` : "" } : answer;
      res.writeHead(status, { "content-type": "text/plain", ...(status >= 300 && status < 400 ? { location: elsewhere } : {}) }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  let closed = false;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    requests,
    answer: () => 204,
    close: () => {
      if (closed) return Promise.resolve();
      closed = true;
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  afterAll(() => receiver.close());
  return receiver;
}

/** Resolves when `check` holds, polling every 10 ms; rejects after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
