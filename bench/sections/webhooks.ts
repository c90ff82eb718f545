import { spawnGatehouse, type Child } from "../lib/processes.ts";
import { gatehouseEnv, progress, fmt, DURATION, PG_SERVER, type BenchContext } from "../lib/context.ts";
import { createScratchDatabase } from "../lib/postgres.ts";
import { measureWebhooks } from "../lib/webhooks.ts";

/** 3c: webhook deliveries to a fast receiver, against raw POSTs. */
export async function webhooks(ctx: BenchContext): Promise<void> {
  const { rows, results, children, spawnTracked, stop } = ctx;
  // A database of its own: every Gatehouse attached to one runs a delivery worker, and the
  // production servers above would refuse (and retry) the loopback receiver. NODE_ENV=test
  // allows loopback targets; the worker, the outbox and the signatures are the same.
  progress("webhooks: deliveries to a fast receiver (WEBHOOK_CONCURRENCY=16), against raw POSTs at the same concurrency");
  const hookScratch = await createScratchDatabase(PG_SERVER);
  let hooks: Child | undefined;
  try {
    const hookKey = Buffer.alloc(32, 2);
    hooks = await spawnTracked(
      spawnGatehouse(gatehouseEnv({ NODE_ENV: "test", DATABASE_URL: hookScratch.url, ENCRYPTION_KEY: hookKey.toString("base64"), WEBHOOK_CONCURRENCY: "16" })),
    );
    const webhooks = await measureWebhooks(hookScratch.url, hookKey, Math.round(400 * DURATION), 16);
    results.webhooks = webhooks;
    rows.push({
      figure: "webhooks: signed deliveries to a fast receiver (outbox → claim → POST → record), 16 at once",
      value: `${fmt(webhooks.deliveriesPerSecond)} deliveries/s (${webhooks.deliveries} in ${webhooks.seconds.toFixed(2)} s); raw POSTs ${fmt(webhooks.baselinePostsPerSecond)}/s`,
      ratio: webhooks.deliveriesPerSecond / webhooks.baselinePostsPerSecond,
      of: "raw POSTs, same concurrency",
      target: "",
    });
  } finally {
    // The server holds connections to its database: it goes first.
    if (hooks && children.includes(hooks)) await stop(hooks);
    await hookScratch.drop();
  }
}
