import { load } from "../lib/load.ts";
import { memoryOf, spawnGatehouse } from "../lib/processes.ts";
import { gatehouseEnv, progress, meOf, MB, DURATION, CORES, type BenchContext } from "../lib/context.ts";

const RSS_BUDGET = 150 * 1024 * 1024;

/**
 * 6: memory. The 150 MB budget is for the auth path, so it is read on a fresh
 * Gatehouse (same database, same settings) that serves only that: `auth.me` at
 * full speed, logins, then three rounds of both at once. The main server, which
 * also held the 1,000 SSE streams and served the 100,000-user listing, gets a
 * row of its own without a target; what those two cost is in their sections'
 * rows (bench/sections/fanout.ts, bench/sections/admin-list.ts). Stops the main
 * server.
 */
export async function memory(ctx: BenchContext): Promise<void> {
  const { rows, results, scratch, spawnTracked, stop, gh, accessToken, loginLoad } = ctx;
  const mainPeak = memoryOf(gh.proc.pid!).peak;
  await stop(gh);
  progress("memory: a fresh Gatehouse for the auth path alone (auth.me, logins, three mixed rounds)");
  const auth = await spawnTracked(spawnGatehouse(gatehouseEnv({ DATABASE_URL: scratch.url })));
  const authLogins = { ...loginLoad, url: `${auth.url}/trpc/auth.login`, connections: CORES * 3, duration: DURATION / 2 };
  const rssOf = () => memoryOf(auth.proc.pid!).rss;
  const started = rssOf();
  await load({ ...meOf(auth, accessToken), duration: DURATION / 2 });
  const afterMe = rssOf();
  await load(authLogins);
  const afterLogins = rssOf();
  const rounds: number[] = [];
  for (let round = 1; round <= 3; round++) {
    progress(`memory: mixed round ${round}/3`);
    await Promise.all([load({ ...meOf(auth, accessToken), duration: DURATION / 2 }), load(authLogins)]);
    await new Promise((r) => setTimeout(r, 500));
    rounds.push(rssOf());
  }
  const peak = memoryOf(auth.proc.pid!).peak;
  await stop(auth);
  results.memory = { started, afterMe, afterLogins, rounds, peak, mainPeak };
  rows.push({
    figure: "peak RSS of a server running the auth path (auth.me, logins, 3 mixed rounds)",
    value: `${MB(peak).toFixed(0)} MB (RSS ${MB(started).toFixed(0)} MB started, ${MB(afterMe).toFixed(0)} after auth.me, ${MB(afterLogins).toFixed(0)} after logins)`,
    ratio: peak / RSS_BUDGET,
    of: "150 MB budget",
    target: "≤ 1",
    met: peak <= RSS_BUDGET,
  });
  const growth = rounds[rounds.length - 1]! - rounds[0]!;
  rows.push({
    figure: "RSS after mixed rounds 1, 2, 3 (same server)",
    value: `${rounds.map((r) => MB(r).toFixed(0)).join(" / ")} MB (${growth >= 0 ? "+" : ""}${MB(growth).toFixed(1)})`,
    ratio: rounds[rounds.length - 1]! / rounds[0]!,
    of: "round 1",
    target: "flat (≈ 1)",
    met: rounds[rounds.length - 1]! / rounds[0]! <= 1.1,
  });
  rows.push({
    figure: "peak RSS of the main server (all of the above: + 1,000 SSE streams, 100,000-user listing, MFA, login flood)",
    value: `${MB(mainPeak).toFixed(0)} MB`,
    ratio: mainPeak / peak,
    of: "auth-path peak",
    target: "",
  });
}
