import { spawnGatehouse } from "../lib/processes.ts";
import { gatehouseEnv, measure, meOf, fmt, DURATION, type BenchContext } from "../lib/context.ts";

/** The stock tRPC adapter, for comparison. */
export async function stockAdapter(ctx: BenchContext): Promise<void> {
  const { rows, results, scratch, spawnTracked, stop, accessToken, baseRps } = ctx;
  const stock = await spawnTracked(spawnGatehouse(gatehouseEnv({ DATABASE_URL: scratch.url, TRPC_ADAPTER: "stock" })));
  const meStock = await measure("auth.me over /trpc, TRPC_ADAPTER=stock", { ...meOf(stock, accessToken), duration: DURATION / 2 });
  results.meStockAdapter = meStock;
  rows.push({
    figure: "auth.me over /trpc, PostgreSQL, TRPC_ADAPTER=stock",
    value: `${fmt(meStock.rps)} req/s, p99 ${meStock.p99} ms`,
    ratio: meStock.rps / baseRps,
    of: "baseline",
    target: "",
  });
  await stop(stock);
}
