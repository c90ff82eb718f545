import { registerAccount } from "../lib/load.ts";
import { memoryOf } from "../lib/processes.ts";
import { progress, fmt, MB, type BenchContext } from "../lib/context.ts";
import { measureFanout } from "../lib/fanout.ts";

/** 3b: live events fanned out to 1,000 subscribers, and what the open streams cost in memory. */
export async function fanout(ctx: BenchContext): Promise<void> {
  const { rows, results, scratch, gh, baseRps } = ctx;
  progress("auth.events: 200 events fanned out to 1,000 open streams");
  const fanToken = (await registerAccount(gh.url, "fanout")).accessToken;
  const fanout = await measureFanout(gh.url, scratch.url, fanToken, 1000, 200, () => memoryOf(gh.proc.pid!));
  results.fanout = fanout;
  rows.push({
    figure: "auth.events: events fanned out to 1,000 SSE subscribers (NOTIFY → hub → streams)",
    value: `${fanout.eventsPerSecond.toFixed(0)} events/s to all, ${fmt(fanout.deliveriesPerSecond)} deliveries/s (${fanout.events} events in ${fanout.seconds.toFixed(2)} s)`,
    ratio: fanout.deliveriesPerSecond / baseRps,
    of: "baseline req/s",
    target: "",
  });
  const { before, open, delivered } = fanout.memory;
  const added = open.rss - before.rss;
  rows.push({
    figure: "auth.events: server memory with the 1,000 SSE streams open, and its peak once 200 events reached them",
    value: `RSS ${MB(before.rss).toFixed(0)} → ${MB(open.rss).toFixed(0)} MB open (${added >= 0 ? "+" : ""}${MB(added).toFixed(1)} MB, ${(added / 1024 / fanout.subscribers).toFixed(1)} KB per stream); peak ${MB(before.peak).toFixed(0)} → ${MB(delivered.peak).toFixed(0)} MB`,
    ratio: delivered.peak / before.peak,
    of: "peak before the streams opened",
    target: "",
  });
}
