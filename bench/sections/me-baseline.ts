import { load, type LoadResult } from "../lib/load.ts";
import { progress, meOf, median, fmt, DURATION, WARMUP, type BenchContext } from "../lib/context.ts";

/** 1, 2: auth.me against the raw baseline, and against the same baseline with its SELECT prepared. */
export async function meAgainstBaseline(ctx: BenchContext): Promise<void> {
  const { rows, results, stop, baseline, preparedBaseline, gh, accessToken } = ctx;
  // Interleaved short runs: a burst of load from elsewhere then hits one run of
  // one side, not a whole side. The ratio is the median of the five pairs' own
  // ratios (each pair ran back to back, under the same conditions), so that a
  // slow minute on a shared machine moves both sides of a pair.
  progress("baseline (raw node:http + pg) and auth.me over /trpc, interleaved 5 times; then the prepared baseline");
  // Steady state: the first seconds of a fresh process run colder code (JIT tiers, pools).
  await load({ ...meOf(baseline, accessToken, "/me"), duration: 2 * WARMUP });
  await load({ ...meOf(gh, accessToken), duration: 2 * WARMUP });
  const baseRuns: LoadResult[] = [];
  const meRuns: LoadResult[] = [];
  for (let i = 0; i < 5; i++) {
    baseRuns.push(await load({ ...meOf(baseline, accessToken, "/me"), duration: DURATION / 2.5 }));
    meRuns.push(await load({ ...meOf(gh, accessToken), duration: DURATION / 2.5 }));
  }
  // For context, once: the same baseline with its SELECT prepared, as Gatehouse sends it.
  await load({ ...meOf(preparedBaseline, accessToken, "/me"), duration: WARMUP });
  const preparedRuns = [await load({ ...meOf(preparedBaseline, accessToken, "/me"), duration: DURATION / 2 })];
  await stop(preparedBaseline);
  const baseRps = median(baseRuns.map((r) => r.rps));
  const preparedRps = median(preparedRuns.map((r) => r.rps));
  const me = meRuns.find((r) => r.rps === median(meRuns.map((x) => x.rps)))!;
  const pairRatio = median(meRuns.map((r, i) => r.rps / baseRuns[i]!.rps));
  results.baseline = { runs: baseRuns, rps: baseRps };
  results.preparedBaseline = { runs: preparedRuns, rps: preparedRps };
  results.mePostgres = { runs: meRuns, median: me };
  rows.push({
    figure: "baseline: raw node:http + pg (verify JWT, session+user SELECT)",
    value: `${fmt(baseRps)} req/s (runs: ${baseRuns.map((r) => fmt(r.rps)).join(", ")})`,
    ratio: 1,
    of: "itself",
    target: "",
  });
  rows.push({
    figure: "auth.me over /trpc, PostgreSQL",
    value: `${fmt(me.rps)} req/s, p99 ${me.p99} ms (runs: ${meRuns.map((r) => fmt(r.rps)).join(", ")}; run by run: ${meRuns.map((r, i) => (r.rps / baseRuns[i]!.rps).toFixed(2)).join(", ")})`,
    ratio: pairRatio,
    of: "baseline, median of the 5 back-to-back pairs",
    target: "≥ 0.8",
    met: pairRatio >= 0.8,
  });
  rows.push({
    figure: "auth.me over /trpc, PostgreSQL, against a prepared-statement baseline",
    value: `baseline with its SELECT prepared, as Gatehouse prepares it: ${fmt(preparedRps)} req/s`,
    ratio: me.rps / preparedRps,
    of: "prepared baseline",
    target: "",
  });
  ctx.baseRps = baseRps;
  ctx.me = me;
}
