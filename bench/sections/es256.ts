import { load, type LoadResult, registerAccount } from "../lib/load.ts";
import { spawnGatehouse } from "../lib/processes.ts";
import { gatehouseEnv, progress, meOf, median, fmt, DURATION, WARMUP, type BenchContext } from "../lib/context.ts";

/** 2b: auth.me with ES256 tokens against HS256. */
export async function es256(ctx: BenchContext): Promise<void> {
  const { rows, results, scratch, spawnTracked, stop, gh, accessToken } = ctx;
  progress("auth.me with JWT_ALG=ES256 against HS256, interleaved 3 times");
  const es = await spawnTracked(
    spawnGatehouse(gatehouseEnv({ DATABASE_URL: scratch.url, JWT_ALG: "ES256", ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64") })),
  );
  const esToken = (await registerAccount(es.url, "me-es256")).accessToken;
  await load({ ...meOf(es, esToken), duration: 2 * WARMUP });
  const esRuns: LoadResult[] = [];
  const hsRuns: LoadResult[] = [];
  for (let i = 0; i < 3; i++) {
    hsRuns.push(await load({ ...meOf(gh, accessToken), duration: DURATION / 2 }));
    esRuns.push(await load({ ...meOf(es, esToken), duration: DURATION / 2 }));
  }
  await stop(es);
  const esRps = median(esRuns.map((r) => r.rps));
  const hsRps = median(hsRuns.map((r) => r.rps));
  results.meEs256 = { runs: esRuns, hsRuns, rps: esRps, hsRps };
  rows.push({
    figure: "auth.me over /trpc, PostgreSQL, ES256 tokens (JWT_ALG=ES256)",
    value: `${fmt(esRps)} req/s (runs: ${esRuns.map((r) => fmt(r.rps)).join(", ")}); HS256 ${fmt(hsRps)} (runs: ${hsRuns.map((r) => fmt(r.rps)).join(", ")})`,
    ratio: esRps / hsRps,
    of: "auth.me with HS256",
    target: "",
  });
}
