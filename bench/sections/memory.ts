import { load } from "../lib/load.ts";
import { memoryOf } from "../lib/processes.ts";
import { progress, meOf, MB, DURATION, CORES, type BenchContext } from "../lib/context.ts";

const RSS_BUDGET = 150 * 1024 * 1024;

/** 6: memory of the main Gatehouse over rounds of mixed load (stops it). */
export async function memory(ctx: BenchContext): Promise<void> {
  const { rows, results, stop, gh, accessToken, loginLoad } = ctx;
  const rounds: number[] = [];
  for (let round = 1; round <= 3; round++) {
    progress(`memory: mixed round ${round}/3`);
    await Promise.all([
      load({ ...meOf(gh, accessToken), duration: DURATION / 2 }),
      load({ ...loginLoad, connections: CORES * 3, duration: DURATION / 2 }),
    ]);
    await new Promise((r) => setTimeout(r, 500));
    rounds.push(memoryOf(gh.proc.pid!).rss);
  }
  const peak = memoryOf(gh.proc.pid!).peak;
  results.memory = { rounds, peak };
  rows.push({
    figure: "peak RSS of the server (all of the above)",
    value: `${MB(peak).toFixed(0)} MB`,
    ratio: peak / RSS_BUDGET,
    of: "150 MB budget",
    target: "≤ 1",
    met: peak <= RSS_BUDGET,
  });
  const growth = rounds[rounds.length - 1]! - rounds[0]!;
  rows.push({
    figure: "RSS after mixed rounds 1, 2, 3",
    value: `${rounds.map((r) => MB(r).toFixed(0)).join(" / ")} MB (${growth >= 0 ? "+" : ""}${MB(growth).toFixed(1)})`,
    ratio: rounds[rounds.length - 1]! / rounds[0]!,
    of: "round 1",
    target: "flat (≈ 1)",
    met: rounds[rounds.length - 1]! / rounds[0]! <= 1.1,
  });
  await stop(gh);
}
