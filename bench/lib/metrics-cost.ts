/**
 * What the metrics hook costs one request, measured in this process: the
 * real per-request code of server/observability/requests.ts (labels from the
 * path, the finish listener, the histogram observation) run on stand-in
 * request and response objects, many times over.
 */
import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { appRouter } from "../../routers/_app.ts";
import { Observability } from "../../server/observability/observability.ts";
import { observeRequests } from "../../server/observability/requests.ts";

/** Nanoseconds the hook adds to one `GET /trpc/auth.me` (median of five rounds). */
export function metricsHookNs(rounds = 5, perRound = 200_000): number {
  const observability = new Observability(
    {
      hasherLoad: () => ({ running: 0, waiting: 0, concurrency: 1, busySeconds: 0, refused: 0 }),
      poolStats: () => ({ max: 1, total: 1, idle: 1, waiting: 0 }),
      limitStore: () => "memory",
      webhookBacklog: async () => ({ pending: 0, delivering: 0, failed: 0 }),
    },
    null,
  );
  const observe = observeRequests(observability, appRouter);
  const handle = () => {};
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) {
      const req = Object.assign(new EventEmitter(), { method: "GET", url: "/trpc/auth.me" }) as unknown as IncomingMessage;
      const res = Object.assign(new EventEmitter(), { statusCode: 200 }) as unknown as ServerResponse;
      observe(req, res, "/trpc/auth.me", handle);
      res.emit("finish");
    }
    times.push(Number(process.hrtime.bigint() - started) / perRound);
  }
  // The stand-ins themselves, to subtract.
  const bare: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) {
      const req = Object.assign(new EventEmitter(), { method: "GET", url: "/trpc/auth.me" }) as unknown as IncomingMessage;
      const res = Object.assign(new EventEmitter(), { statusCode: 200 }) as unknown as ServerResponse;
      handle();
      res.emit("finish", req);
    }
    bare.push(Number(process.hrtime.bigint() - started) / perRound);
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  return Math.max(0, median(times) - median(bare));
}
