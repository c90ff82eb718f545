import jwt from "jsonwebtoken";
import { load, type LoadResult, registerAccount } from "../lib/load.ts";
import { spawnChild, spawnGatehouse } from "../lib/processes.ts";
import { gatehouseEnv, progress, meOf, median, fmt, DURATION, WARMUP, SECRET, type BenchContext } from "../lib/context.ts";

/** 2 on PGlite: Gatehouse and the raw baseline on embedded PGlite. */
export async function pglite(ctx: BenchContext): Promise<void> {
  const { rows, results, spawnTracked, stop, baseRps } = ctx;
  progress("Gatehouse and the raw baseline on embedded PGlite (in memory), interleaved 2 times");
  const lite = await spawnTracked(spawnGatehouse(gatehouseEnv({})));
  const liteAccount = await registerAccount(lite.url, "lite");
  // The baseline holds its own PGlite: give it the same user and session rows.
  const claims = jwt.decode(liteAccount.accessToken) as { sub: string; sid: string };
  const liteBaseline = await spawnTracked(
    spawnChild("baseline-pglite", ["--import", "tsx", "bench/baseline-server.ts"], {
      JWT_SECRET: SECRET,
      BASELINE_SEED: JSON.stringify({ userId: claims.sub, sessionId: claims.sid, email: liteAccount.email, name: "Bench" }),
    }),
  );
  await load({ ...meOf(liteBaseline, liteAccount.accessToken, "/me"), duration: WARMUP });
  await load({ ...meOf(lite, liteAccount.accessToken), duration: WARMUP });
  const liteBaseRuns: LoadResult[] = [];
  const liteRuns: LoadResult[] = [];
  for (let i = 0; i < 2; i++) {
    liteBaseRuns.push(await load({ ...meOf(liteBaseline, liteAccount.accessToken, "/me"), duration: DURATION / 3 }));
    liteRuns.push(await load({ ...meOf(lite, liteAccount.accessToken), duration: DURATION / 3 }));
  }
  await stop(liteBaseline);
  const liteBaseRps = median(liteBaseRuns.map((r) => r.rps));
  const liteRps = median(liteRuns.map((r) => r.rps));
  const failedLite = [...liteRuns, ...liteBaseRuns].reduce((n, r) => n + r.non2xx + r.errors, 0);
  results.pglite = { baseline: liteBaseRuns, me: liteRuns };
  rows.push({
    figure: "baseline on PGlite: raw node:http + PGlite in memory (same work)",
    value: `${fmt(liteBaseRps)} req/s`,
    ratio: liteBaseRps / baseRps,
    of: "baseline (PostgreSQL)",
    target: "",
  });
  rows.push({
    figure: "auth.me over /trpc, embedded PGlite",
    value: `${fmt(liteRps)} req/s, p99 ${median(liteRuns.map((r) => r.p99))} ms${failedLite ? `, ${failedLite} failed` : ""}`,
    ratio: liteRps / liteBaseRps,
    of: "baseline on PGlite",
    target: "≥ 0.6",
    met: liteRps / liteBaseRps >= 0.6 && failedLite === 0,
  });
  await stop(lite);
}
