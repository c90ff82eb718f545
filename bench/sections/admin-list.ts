import { progress, fmt, DURATION, WARMUP, CONNECTIONS, type BenchContext } from "../lib/context.ts";
import { measureAdminList, SEEDED_USERS } from "../lib/admin-list.ts";

/** 1b: admin.listUsers on 100,000 users, against auth.me on the same server. */
export async function adminList(ctx: BenchContext): Promise<void> {
  const { rows, results, scratch, gh, email, accessToken, me } = ctx;
  progress(`admin.listUsers: seeding ${fmt(SEEDED_USERS)} users, then an email-prefix search and a deep page`);
  const adminList = await measureAdminList({ baseUrl: gh.url, databaseUrl: scratch.url, email, accessToken, connections: CONNECTIONS, duration: DURATION / 2 }, WARMUP);
  results.adminList = adminList;
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
}
