import { readFileSync } from "node:fs";
import { load, type LoadResult } from "../lib/load.ts";
import { spawnGatehouse, type Child } from "../lib/processes.ts";
import { gatehouseEnv, progress, meOf, median, fmt, DURATION, WARMUP, CONNECTIONS, CORES, type BenchContext } from "../lib/context.ts";

const pct = (fraction: number) => `${Math.round(fraction * 100)}%`;

/** The machine's CPU time so far (/proc/stat, Linux); `busySince` gives the busy share of all cores since an earlier reading. */
function machineCpu(): { busy: number; total: number; busySince(earlier: { busy: number; total: number }): number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3]! + fields[4]!; // idle + iowait
  const total = fields.reduce((a, b) => a + b, 0);
  const busy = total - idle;
  return { busy, total, busySince: (earlier) => (busy - earlier.busy) / Math.max(1, total - earlier.total) };
}

/** WEB_CONCURRENCY: 1 vs N workers (stops the baseline). */
export async function workers(ctx: BenchContext): Promise<void> {
  const { rows, results, scratch, spawnTracked, stop, baseline, accessToken } = ctx;
  // Both servers run side by side and are measured in turns, at the bench's
  // connection count and at 100 (more requests in flight per worker).
  const workers = Math.max(2, CORES);
  progress(`1 vs ${workers} workers (WEB_CONCURRENCY), interleaved, at ${CONNECTIONS} and 100 connections`);
  const single = await spawnTracked(spawnGatehouse(gatehouseEnv({ DATABASE_URL: scratch.url })));
  const clustered = await spawnTracked(spawnGatehouse(gatehouseEnv({ DATABASE_URL: scratch.url, WEB_CONCURRENCY: String(workers) })));
  for (let waited = 0; !clustered.log().includes("gatehouse cluster ready"); waited += 50) {
    if (waited > 60_000) throw new Error(`cluster not ready:\n${clustered.log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const scaling: Record<number, { one: LoadResult[]; many: LoadResult[]; busyOne: number; busyMany: number }> = {};
  for (const connections of [CONNECTIONS, 100]) {
    const at = (child: Child, duration: number) => load({ ...meOf(child, accessToken), connections, duration });
    await at(single, WARMUP / 2);
    await at(clustered, WARMUP / 2);
    const one: LoadResult[] = [];
    const many: LoadResult[] = [];
    const busy = { one: [] as number[], many: [] as number[] };
    for (let i = 0; i < 2; i++) {
      let cpu = machineCpu();
      one.push(await at(single, DURATION / 3));
      busy.one.push(machineCpu().busySince(cpu));
      cpu = machineCpu();
      many.push(await at(clustered, DURATION / 3));
      busy.many.push(machineCpu().busySince(cpu));
    }
    const oneRps = median(one.map((r) => r.rps));
    const manyRps = median(many.map((r) => r.rps));
    const busyOne = median(busy.one);
    const busyMany = median(busy.many);
    scaling[connections] = { one, many, busyOne, busyMany };
    rows.push({
      figure: `auth.me over /trpc, PostgreSQL, WEB_CONCURRENCY=${workers}, ${connections} connections`,
      value: `${fmt(manyRps)} req/s (1 worker: ${fmt(oneRps)}); all ${CORES} cores busy ${pct(busyMany)} (1 worker: ${pct(busyOne)}), server + PostgreSQL + load generator`,
      ratio: manyRps / oneRps,
      of: "1 worker, same run",
      target: "> 1",
      met: manyRps > oneRps,
    });
  }
  results.workers = { workers, scaling };
  await stop(clustered);
  await stop(single);
  await stop(baseline);
}
