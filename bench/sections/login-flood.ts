import { load, type LoadResult } from "../lib/load.ts";
import { progress, meOf, median, DURATION, WARMUP, type BenchContext } from "../lib/context.ts";

/** 5: auth.me latency while a login flood runs. */
export async function loginFlood(ctx: BenchContext): Promise<void> {
  const { rows, results, gh, accessToken, me, loginLoad, ceiling } = ctx;
  const meRate = Math.max(50, Math.round(me.rps * 0.25));
  const meSteady = { ...meOf(gh, accessToken), connections: 8, overallRate: meRate };
  // Five pairs of short runs, alone then during a flood; medians of the p99s (one
  // p99 of a short run moves with any burst from elsewhere).
  progress(`auth.me at ${meRate} req/s, alone and during a login flood at ${(2 * ceiling).toFixed(1)}/s, 5 times`);
  await load({ ...meSteady, duration: WARMUP });
  const pairs: { alone: LoadResult; during: LoadResult; flood: LoadResult }[] = [];
  for (let i = 0; i < 5; i++) {
    const alone = await load({ ...meSteady, duration: DURATION / 3 });
    const [during, flood] = await Promise.all([
      load({ ...meSteady, duration: DURATION / 3 }),
      load({ ...loginLoad, connections: 100, overallRate: Math.max(1, Math.round(2 * ceiling)), duration: DURATION / 3 }),
    ]);
    pairs.push({ alone, during, flood });
  }
  const aloneP99 = median(pairs.map((p) => p.alone.p99));
  const duringP99 = median(pairs.map((p) => p.during.p99));
  const floodOk = pairs.reduce((n, p) => n + p.flood.ok, 0);
  const overloaded = pairs.reduce((n, p) => n + (p.flood.statusCodes["503"] ?? 0), 0);
  const meFailed = pairs.reduce((n, p) => n + p.during.non2xx + p.during.errors, 0);
  results.flood = { meRate, pairs, aloneP99, duringP99 };
  const p99Ratio = duringP99 / Math.max(aloneP99, 1);
  rows.push({
    figure: `auth.me p99 at ${meRate} req/s during a login flood (2x ceiling)`,
    value: `p99 ${duringP99} ms (runs ${pairs.map((p) => p.during.p99).join("/")}), alone ${aloneP99} ms (${pairs.map((p) => p.alone.p99).join("/")}); logins ${floodOk} ok, ${overloaded} OVERLOADED`,
    ratio: p99Ratio,
    of: "p99 without the flood (medians of 5)",
    target: "≤ 3",
    met: p99Ratio <= 3 && meFailed === 0,
  });
}
