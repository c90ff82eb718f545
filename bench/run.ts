/**
 * `npm run bench`: how fast is Gatehouse's auth path, as ratios to baselines
 * measured in the same run (so that a loaded or slower machine moves both).
 *
 * It starts everything it measures itself: a scratch PostgreSQL database
 * (created, migrated, dropped); the raw node:http baseline doing the same
 * work as `auth.me` (bench/baseline-server.ts) on PostgreSQL, with its query
 * prepared, and on embedded PGlite; and Gatehouse as `npm start` runs it (the
 * compiled build under the node flags and environment of package.json) on
 * PostgreSQL, on embedded PGlite in memory, with the stock tRPC adapter, and
 * with one and with N cluster workers, and with JWT_ALG=ES256 against HS256; webhook deliveries against raw
 * POSTs to the same receiver. Load comes from autocannon (and from
 * the typed client for the batching figure) in this process, over loopback
 * only; every run is bounded by BENCH_DURATION.
 *
 * Prints one table, writes bench/results.json and bench/results.svg.
 *
 * Env: BENCH_DURATION (seconds per measurement, default 5), BENCH_PG_URL
 * (a PostgreSQL server to make the scratch database on; default
 * postgresql://postgres@127.0.0.1:5432/postgres), BCRYPT_COST (default 12),
 * BENCH_CONNECTIONS (default 32).
 */
import { buildServer } from "../tests/helpers/production-server.ts";
import { BenchContext, progress } from "./lib/context.ts";
import { report } from "./lib/report.ts";
import { adminList } from "./sections/admin-list.ts";
import { es256 } from "./sections/es256.ts";
import { fanout } from "./sections/fanout.ts";
import { loginFlood } from "./sections/login-flood.ts";
import { logins } from "./sections/logins.ts";
import { meAgainstBaseline } from "./sections/me-baseline.ts";
import { memory } from "./sections/memory.ts";
import { observability } from "./sections/observability.ts";
import { pglite } from "./sections/pglite.ts";
import { secondFactor } from "./sections/second-factor.ts";
import { startServers } from "./sections/servers.ts";
import { startup } from "./sections/startup.ts";
import { stockAdapter } from "./sections/stock-adapter.ts";
import { typedClient } from "./sections/typed-client.ts";
import { webhooks } from "./sections/webhooks.ts";
import { workers } from "./sections/workers.ts";

/** The sections in the order they run: each pushes its rows and results onto the shared context (bench/lib/context.ts). */
async function main(): Promise<void> {
  progress("building the server (npm run build)");
  buildServer();
  const ctx = await BenchContext.create();
  try {
    await startServers(ctx);
    await meAgainstBaseline(ctx);
    await adminList(ctx);
    await es256(ctx);
    await typedClient(ctx);
    await fanout(ctx);
    await webhooks(ctx);
    await logins(ctx);
    await secondFactor(ctx);
    await loginFlood(ctx);
    await memory(ctx);
    await stockAdapter(ctx);
    await observability(ctx);
    await pglite(ctx);
    await workers(ctx);
    await startup(ctx);
  } finally {
    for (const child of ctx.children.splice(0)) await child.stop();
    await ctx.scratch.drop();
  }
  report(ctx.rows, ctx.results);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
