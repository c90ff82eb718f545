import { registerAccount } from "../lib/load.ts";
import { spawnChild, spawnGatehouse } from "../lib/processes.ts";
import { gatehouseEnv, progress, SECRET, type BenchContext } from "../lib/context.ts";

/** The raw node:http baselines and the main Gatehouse, on the scratch PostgreSQL database. */
export async function startServers(ctx: BenchContext): Promise<void> {
  const { scratch, spawnTracked } = ctx;
  progress("starting the baseline and Gatehouse (PostgreSQL)");
  const baseline = await spawnTracked(
    spawnChild("baseline", ["--import", "tsx", "bench/baseline-server.ts"], { DATABASE_URL: scratch.url, JWT_SECRET: SECRET }),
  );
  const preparedBaseline = await spawnTracked(
    spawnChild("baseline-prepared", ["--import", "tsx", "bench/baseline-server.ts"], {
      DATABASE_URL: scratch.url,
      JWT_SECRET: SECRET,
      BASELINE_PREPARED: "1",
    }),
  );
  const gh = await spawnTracked(spawnGatehouse(gatehouseEnv({ DATABASE_URL: scratch.url })));
  const { email, accessToken } = await registerAccount(gh.url, "me");
  ctx.baseline = baseline;
  ctx.preparedBaseline = preparedBaseline;
  ctx.gh = gh;
  ctx.email = email;
  ctx.accessToken = accessToken;
}
