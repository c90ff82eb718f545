import { registerAccount } from "../lib/load.ts";
import { progress, fmt, type BenchContext } from "../lib/context.ts";
import { measureFanout } from "../lib/fanout.ts";

/** 3b: live events fanned out to 1,000 subscribers. */
export async function fanout(ctx: BenchContext): Promise<void> {
  const { rows, results, scratch, gh, baseRps } = ctx;
  progress("auth.events: 200 events fanned out to 1,000 open streams");
  const fanToken = (await registerAccount(gh.url, "fanout")).accessToken;
  const fanout = await measureFanout(gh.url, scratch.url, fanToken, 1000, 200);
  results.fanout = fanout;
  rows.push({
    figure: "auth.events: events fanned out to 1,000 SSE subscribers (NOTIFY → hub → streams)",
    value: `${fanout.eventsPerSecond.toFixed(0)} events/s to all, ${fmt(fanout.deliveriesPerSecond)} deliveries/s (${fanout.events} events in ${fanout.seconds.toFixed(2)} s)`,
    ratio: fanout.deliveriesPerSecond / baseRps,
    of: "baseline req/s",
    target: "",
  });
}
