import { createGatehouseClient, memoryTokenStore } from "../../packages/client/src/index.ts";
import { progress, fmt, DURATION, WARMUP, type BenchContext } from "../lib/context.ts";

/** Calls/s of `auth.me` through the typed client: callers in a loop, batched by httpBatchLink. */
async function clientCalls(url: string, accessToken: string, seconds: number): Promise<{ rps: number; errors: number }> {
  // Ten callers per client keep each batch within the server's ten-call limit.
  const clients = Array.from({ length: 4 }, () =>
    createGatehouseClient({ url: `${url}/trpc`, tokens: memoryTokenStore({ accessToken, refreshToken: "unused" }) }),
  );
  const deadline = performance.now() + seconds * 1000;
  let calls = 0;
  let errors = 0;
  await Promise.all(
    clients.flatMap((client) =>
      Array.from({ length: 10 }, async () => {
        while (performance.now() < deadline) {
          try {
            await client.auth.me.query();
            calls++;
          } catch {
            errors++;
          }
        }
      }),
    ),
  );
  return { rps: calls / seconds, errors };
}

/** 3: auth.me through the typed client, batched over HTTP. */
export async function typedClient(ctx: BenchContext): Promise<void> {
  const { rows, results, gh, accessToken, baseRps } = ctx;
  progress("auth.me through the typed client (httpBatchLink, 40 callers)");
  await clientCalls(gh.url, accessToken, WARMUP);
  const client = await clientCalls(gh.url, accessToken, DURATION / 2);
  results.typedClient = client;
  rows.push({
    figure: "auth.me via typed client, httpBatchLink, 4 clients x 10 callers",
    value: `${fmt(client.rps)} calls/s${client.errors ? `, ${client.errors} errors` : ""}`,
    ratio: client.rps / baseRps,
    of: "baseline",
    target: "",
  });
}
