import { progress, fmt, MB, DURATION, WARMUP, CONNECTIONS, type BenchContext } from "../lib/context.ts";
import { measureAdminList, SEEDED_USERS } from "../lib/admin-list.ts";
import { memoryOf } from "../lib/processes.ts";
import { serializeMicros } from "../lib/serialize-check.ts";

/** 1b: admin.listUsers on 100,000 users, against auth.me on the same server, and what serving it cost in memory. */
export async function adminList(ctx: BenchContext): Promise<void> {
  const { rows, results, scratch, gh, email, accessToken, me } = ctx;
  progress(`admin.listUsers: seeding ${fmt(SEEDED_USERS)} users, then an email-prefix search and a deep page`);
  const before = memoryOf(gh.proc.pid!);
  const adminList = await measureAdminList({ baseUrl: gh.url, databaseUrl: scratch.url, email, accessToken, connections: CONNECTIONS, duration: DURATION / 2 }, WARMUP);
  const after = memoryOf(gh.proc.pid!);
  results.adminList = { ...adminList, memory: { before, after } };
  for (const [name, run] of [
    [`email-prefix search ("SEED9", 11,111 matches, first 50)`, adminList.search],
    ["a page 50,000 users deep (keyset cursor, newest first)", adminList.deepPage],
  ] as const) {
    rows.push({
      figure: `admin.listUsers on ${fmt(SEEDED_USERS)} users: ${name}`,
      value: `p50 ${run.p50} ms, p99 ${run.p99} ms, ${fmt(run.rps)} req/s${run.non2xx + run.errors > 0 ? `, ${run.non2xx + run.errors} failed` : ""} (seeded in ${fmt(adminList.seedMs)} ms)`,
      ratio: run.rps / me.rps,
      of: "auth.me req/s, same server",
      target: "≥ 0.25",
      met: run.rps / me.rps >= 0.25 && run.non2xx + run.errors === 0,
    });
  }
  rows.push({
    figure: `admin.listUsers: server RSS and its peak, before and after the listing runs`,
    value: `RSS ${MB(before.rss).toFixed(0)} → ${MB(after.rss).toFixed(0)} MB, peak ${MB(before.peak).toFixed(0)} → ${MB(after.peak).toFixed(0)} MB (+${MB(after.peak - before.peak).toFixed(1)})`,
    ratio: after.peak / before.peak,
    of: "peak before the listing",
    target: "",
  });
  // What each page's answer costs to serialize: without superjson's walk (fast path) and with it (plain path).
  progress("serializing a 50-user page: without superjson's walk against superjson, in process");
  const serialize = await serializeMicros();
  results.serialize = serialize;
  rows.push({
    figure: "serializing a 50-user admin.listUsers page: plain values (fast path) vs superjson (plain path)",
    value: `fast ${serialize.plain.toFixed(0)} µs, superjson ${serialize.superjson.toFixed(0)} µs per page, JSON.stringify included (in process)`,
    ratio: serialize.plain / serialize.superjson,
    of: "superjson path",
    target: "< 1",
    met: serialize.plain < serialize.superjson,
  });
}
