import { load, type LoadResult } from "../lib/load.ts";
import { spawnGatehouse } from "../lib/processes.ts";
import { gatehouseEnv, progress, meOf, median, fmt, DURATION, WARMUP, type BenchContext } from "../lib/context.ts";
import { metricsHookNs } from "../lib/metrics-cost.ts";
import { sessionLookupMicros } from "../lib/session-lookup.ts";
import { tokenCheckMicros } from "../lib/token-check.ts";
import { otlpSink } from "../lib/otlp-sink.ts";

/** What observability costs auth.me (the metrics hook, tracing), and what its two fenced fast paths save (the raw session lookup, kept token checks). */
export async function observability(ctx: BenchContext): Promise<void> {
  const { rows, results, scratch, spawnTracked, stop, accessToken, me } = ctx;
  // Metrics are always on: the hook's own time per request, against one auth.me's time.
  progress("metrics hook per request; auth.me with tracing on (OTLP to a local receiver)");
  const hookNs = metricsHookNs();
  const meNs = 1e9 / me.rps;
  results.metricsHook = { hookNs, meNs };
  rows.push({
    figure: "metrics hook on one auth.me (labels, finish listener, histogram)",
    value: `${fmt(hookNs)} ns per request; one auth.me takes ${fmt(meNs / 1000)} µs of the server's loop at ${fmt(me.rps)} req/s`,
    ratio: hookNs / meNs,
    of: "one auth.me request",
    target: "≤ 0.02",
    met: hookNs / meNs <= 0.02,
  });
  // The raw session lookup of every protected request, against the Prisma path it stands for.
  progress("session lookup: raw SQL against Prisma, in process");
  const sid = (JSON.parse(Buffer.from(accessToken.split(".")[1]!, "base64url").toString()) as { sid: string }).sid;
  const lookup = await sessionLookupMicros(scratch.url, sid);
  results.sessionLookup = lookup;
  rows.push({
    figure: "session lookup of a protected request: raw SQL (fast path) vs Prisma (plain path)",
    value: `raw ${lookup.raw.toFixed(0)} µs, Prisma ${lookup.prisma.toFixed(0)} µs per lookup (one caller, in process)`,
    ratio: lookup.raw / lookup.prisma,
    of: "Prisma path",
    target: "< 1",
    met: lookup.raw < lookup.prisma,
  });
  // The access-token check of every protected request: a token checked before is kept.
  progress("access-token check: kept against a full check, in process");
  const check = await tokenCheckMicros();
  results.tokenCheck = check;
  rows.push({
    figure: "access-token check of a protected request: kept token (fast path) vs full JWT check (plain path)",
    value: `kept ${check.kept.toFixed(2)} µs, full ${check.full.toFixed(2)} µs per check (HS256, in process)`,
    ratio: check.kept / check.full,
    of: "full check",
    target: "< 1",
    met: check.kept < check.full,
  });
  // Tracing: the same server with OTEL_EXPORTER_OTLP_ENDPOINT, spans sent to a receiver that only reads them.
  const receiver = await otlpSink();
  const traced = await spawnTracked(spawnGatehouse(gatehouseEnv({ DATABASE_URL: scratch.url, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url })));
  const plainAgain = await spawnTracked(spawnGatehouse(gatehouseEnv({ DATABASE_URL: scratch.url })));
  await load({ ...meOf(traced, accessToken), duration: WARMUP });
  await load({ ...meOf(plainAgain, accessToken), duration: WARMUP });
  const tracedRuns: LoadResult[] = [];
  const plainRuns: LoadResult[] = [];
  for (let i = 0; i < 2; i++) {
    tracedRuns.push(await load({ ...meOf(traced, accessToken), duration: DURATION / 3 }));
    plainRuns.push(await load({ ...meOf(plainAgain, accessToken), duration: DURATION / 3 }));
  }
  await stop(traced);
  await stop(plainAgain);
  receiver.close();
  const tracedRps = median(tracedRuns.map((r) => r.rps));
  const plainRps = median(plainRuns.map((r) => r.rps));
  results.tracing = { tracedRuns, plainRuns, spansReceived: receiver.requests() };
  rows.push({
    figure: "auth.me over /trpc, PostgreSQL, tracing on (every request, OTLP/HTTP)",
    value: `${fmt(tracedRps)} req/s (tracing off, same run: ${fmt(plainRps)}); ${receiver.requests()} OTLP batches received`,
    ratio: tracedRps / plainRps,
    of: "tracing off, same run",
    target: "",
  });
}
