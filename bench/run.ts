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
import bcrypt from "bcrypt";
import jwt from "jsonwebtoken";
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { createGatehouseClient, memoryTokenStore } from "../packages/client/src/index.ts";
import { buildServer } from "../tests/helpers/production-server.ts";
import { coldStarts, type ColdStart } from "./lib/cold-start.ts";
import { BENCH_PASSWORD, load, registerAccount, type LoadResult } from "./lib/load.ts";
import { measureAdminList, SEEDED_USERS } from "./lib/admin-list.ts";
import { measureFanout } from "./lib/fanout.ts";
import { measureWebhooks } from "./lib/webhooks.ts";
import { enrolledAccount, meInterleaved, signInTimes } from "./lib/mfa.ts";
import { metricsHookNs } from "./lib/metrics-cost.ts";
import { sessionLookupMicros } from "./lib/session-lookup.ts";
import { createScratchDatabase } from "./lib/postgres.ts";
import { memoryOf, ROOT, spawnChild, spawnGatehouse, type Child } from "./lib/processes.ts";
import { renderChart, type Bar } from "./lib/svg.ts";

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const WARMUP = Math.min(2, Math.max(1, DURATION / 5));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PG_SERVER = process.env.BENCH_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const BCRYPT_COST = Number(process.env.BCRYPT_COST ?? 12);
const CORES = availableParallelism();
const SECRET = "bench-secret-0123456789-bench-secret-0123456789";
const RSS_BUDGET = 150 * 1024 * 1024;
const started = performance.now();
const loadBefore = loadavg()[0]!;

/** What every Gatehouse under test runs with: production, limits out of the way, default logging. */
function gatehouseEnv(extra: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: "production",
    JWT_SECRET: SECRET,
    // Production refuses a non-https APP_URL; no mail leaves the bench.
    APP_URL: "https://app.example.com",
    BCRYPT_COST: String(BCRYPT_COST),
    DATA_DIR: ":memory:",
    LOG_LEVEL: "info",
    // The hardening limits would turn a load test into 429s; the bench measures the work.
    AUTH_RATE_LIMIT_PER_MINUTE: "1000000",
    LOGIN_MAX_FAILURES: "1000",
    // One bench user holds the 1,000 auth.events streams of the fan-out figure.
    EVENTS_MAX_PER_USER: "1000",
    // Production needs it to seal TOTP secrets (a fixed bench key, never a real one).
    ENCRYPTION_KEY: "YmVuY2gta2V5LWJlbmNoLWtleS1iZW5jaC1rZXktMzI=",
    ...extra,
  };
}

function progress(message: string): void {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
}

/** Warm up, then measure. */
async function measure(label: string, options: Parameters<typeof load>[0]): Promise<LoadResult> {
  progress(label);
  await load({ ...options, duration: WARMUP });
  const result = await load(options);
  if (result.errors > 0 || result.non2xx > 0) progress(`  ${label}: ${result.non2xx} non-2xx, ${result.errors} errors ${JSON.stringify(result.statusCodes)}`);
  return result;
}

const meOf = (child: Child, token: string, path = "/trpc/auth.me") => ({
  url: `${child.url}${path}`,
  headers: { authorization: `Bearer ${token}` },
  connections: CONNECTIONS,
  duration: DURATION,
});

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

/** Wall time of `CORES` bcrypt hashes run at once (what the cores deliver together, now). */
async function parallelBcryptMs(cost: number): Promise<number> {
  const t = performance.now();
  await Promise.all(Array.from({ length: CORES }, () => bcrypt.hash("gatehouse-bench-password", cost)));
  return performance.now() - t;
}

/** Median time of one bcrypt hash at the cost, on this machine, now. */
async function bcryptMs(cost: number, samples = 5): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await bcrypt.hash("gatehouse-bench-password", cost);
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(samples / 2)]!;
}

const MB = (bytes: number) => bytes / 1024 / 1024;
const pct = (fraction: number) => `${Math.round(fraction * 100)}%`;

/** The machine's CPU time so far (/proc/stat, Linux); `busySince` gives the busy share of all cores since an earlier reading. */
function machineCpu(): { busy: number; total: number; busySince(earlier: { busy: number; total: number }): number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3]! + fields[4]!; // idle + iowait
  const total = fields.reduce((a, b) => a + b, 0);
  const busy = total - idle;
  return { busy, total, busySince: (earlier) => (busy - earlier.busy) / Math.max(1, total - earlier.total) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Row {
  figure: string;
  value: string;
  ratio: number;
  of: string;
  target: string;
  met?: boolean;
}

async function main(): Promise<void> {
  progress("building the server (npm run build)");
  buildServer();
  const rows: Row[] = [];
  const results: Record<string, unknown> = {};
  const children: Child[] = [];
  const scratch = await createScratchDatabase(PG_SERVER);
  const spawnTracked = async (p: Promise<Child>) => {
    const child = await p;
    children.push(child);
    return child;
  };
  const stop = async (child: Child) => {
    children.splice(children.indexOf(child), 1);
    return child.stop();
  };

  try {
    // --- start-up, and the servers ---------------------------------------------------------
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

    // --- 1, 2: auth.me against the baseline (baseline measured before and after, averaged) --
    // Interleaved short runs, medians: a burst of load from elsewhere then hits one
    // run of one side, not a whole side.
    progress("baseline (raw node:http + pg) and auth.me over /trpc, interleaved 3 times; then the prepared baseline");
    // Steady state: the first seconds of a fresh process run colder code (JIT tiers, pools).
    await load({ ...meOf(baseline, accessToken, "/me"), duration: 2 * WARMUP });
    await load({ ...meOf(gh, accessToken), duration: 2 * WARMUP });
    const baseRuns: LoadResult[] = [];
    const meRuns: LoadResult[] = [];
    for (let i = 0; i < 3; i++) {
      baseRuns.push(await load({ ...meOf(baseline, accessToken, "/me"), duration: DURATION / 2 }));
      meRuns.push(await load({ ...meOf(gh, accessToken), duration: DURATION / 2 }));
    }
    // For context, once: the same baseline with its SELECT prepared, as Gatehouse sends it.
    await load({ ...meOf(preparedBaseline, accessToken, "/me"), duration: WARMUP });
    const preparedRuns = [await load({ ...meOf(preparedBaseline, accessToken, "/me"), duration: DURATION / 2 })];
    await stop(preparedBaseline);
    const baseRps = median(baseRuns.map((r) => r.rps));
    const preparedRps = median(preparedRuns.map((r) => r.rps));
    const me = meRuns.find((r) => r.rps === median(meRuns.map((x) => x.rps)))!;
    results.baseline = { runs: baseRuns, rps: baseRps };
    results.preparedBaseline = { runs: preparedRuns, rps: preparedRps };
    results.mePostgres = { runs: meRuns, median: me };
    rows.push({
      figure: "baseline: raw node:http + pg (verify JWT, session+user SELECT)",
      value: `${fmt(baseRps)} req/s (runs: ${baseRuns.map((r) => fmt(r.rps)).join(", ")})`,
      ratio: 1,
      of: "itself",
      target: "",
    });
    rows.push({
      figure: "auth.me over /trpc, PostgreSQL",
      value: `${fmt(me.rps)} req/s, p99 ${me.p99} ms (runs: ${meRuns.map((r) => fmt(r.rps)).join(", ")})`,
      ratio: me.rps / baseRps,
      of: "baseline",
      target: "≥ 0.6",
      met: me.rps / baseRps >= 0.6,
    });
    rows.push({
      figure: "auth.me over /trpc, PostgreSQL, against a prepared-statement baseline",
      value: `baseline with its SELECT prepared, as Gatehouse prepares it: ${fmt(preparedRps)} req/s`,
      ratio: me.rps / preparedRps,
      of: "prepared baseline",
      target: "",
    });

    // --- 1b: admin.listUsers on 100,000 users, against auth.me on the same server ---------
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

    // --- 2b: auth.me with ES256 tokens (JWT_ALG=ES256) against HS256, interleaved -----------
    progress("auth.me with JWT_ALG=ES256 against HS256, interleaved 3 times");
    const es = await spawnTracked(
      spawnGatehouse(gatehouseEnv({ DATABASE_URL: scratch.url, JWT_ALG: "ES256", ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64") })),
    );
    const esToken = (await registerAccount(es.url, "me-es256")).accessToken;
    await load({ ...meOf(es, esToken), duration: 2 * WARMUP });
    const esRuns: LoadResult[] = [];
    const hsRuns: LoadResult[] = [];
    for (let i = 0; i < 3; i++) {
      hsRuns.push(await load({ ...meOf(gh, accessToken), duration: DURATION / 2 }));
      esRuns.push(await load({ ...meOf(es, esToken), duration: DURATION / 2 }));
    }
    await stop(es);
    const esRps = median(esRuns.map((r) => r.rps));
    const hsRps = median(hsRuns.map((r) => r.rps));
    results.meEs256 = { runs: esRuns, hsRuns, rps: esRps, hsRps };
    rows.push({
      figure: "auth.me over /trpc, PostgreSQL, ES256 tokens (JWT_ALG=ES256)",
      value: `${fmt(esRps)} req/s (runs: ${esRuns.map((r) => fmt(r.rps)).join(", ")}); HS256 ${fmt(hsRps)} (runs: ${hsRuns.map((r) => fmt(r.rps)).join(", ")})`,
      ratio: esRps / hsRps,
      of: "auth.me with HS256",
      target: "",
    });

    // --- 3: the typed client over HTTP batching ---------------------------------------------
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

    // --- 3b: live events fanned out to 1,000 subscribers -------------------------------------
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

    // --- 3c: webhook throughput to a fast receiver --------------------------------------------
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

    // --- 4: logins against the hashing ceiling ----------------------------------------------
    progress(`bcrypt at cost ${BCRYPT_COST}: timing one hash`);
    const hashBefore = await bcryptMs(BCRYPT_COST, 3);

    const loginBody = JSON.stringify({ json: { email, password: BENCH_PASSWORD } });
    const loginLoad = {
      url: `${gh.url}/trpc/auth.login`,
      method: "POST" as const,
      headers: { "content-type": "application/json" },
      body: loginBody,
      duration: DURATION,
    };
    // Enough callers to keep every hashing slot busy, too few to overflow the queue.
    const login = await measure("auth.login throughput", { ...loginLoad, connections: CORES * 3 });
    // Timed before and after the logins, so that the ceiling sees the same machine they did.
    const hashMs = median([hashBefore, await bcryptMs(BCRYPT_COST, 3)]);
    const ceiling = (CORES * 1000) / hashMs;
    // For context: cores rarely deliver N times one hash at once (shared caches, SMT, neighbours).
    const parallelMs = Math.min(await parallelBcryptMs(BCRYPT_COST), await parallelBcryptMs(BCRYPT_COST));
    const parallelCeiling = (CORES * 1000) / parallelMs;
    results.login = { ...login, hashMs, ceiling, parallelMs, parallelCeiling, cores: CORES, cost: BCRYPT_COST };
    const loginErrors = login.non2xx + login.errors;
    rows.push({
      figure: `auth.login, bcrypt cost ${BCRYPT_COST}, ${CORES * 3} callers`,
      value: `${login.steadyRps.toFixed(2)} logins/s, ${loginErrors} errors`,
      ratio: login.steadyRps / ceiling,
      of: `ceiling ${ceiling.toFixed(2)}/s = ${CORES} cores / ${hashMs.toFixed(0)} ms`,
      target: "≥ 0.9, 0 errors",
      met: login.steadyRps / ceiling >= 0.9 && loginErrors === 0,
    });
    rows.push({
      figure: `auth.login against ${CORES} hashes run at once`,
      value: `${login.steadyRps.toFixed(2)} logins/s`,
      ratio: login.steadyRps / parallelCeiling,
      of: `${parallelCeiling.toFixed(2)}/s = ${CORES} / ${parallelMs.toFixed(0)} ms`,
      target: "",
    });

    // --- second factor: auth.me with TOTP on vs off; the challenge step's cost ------------------
    progress("auth.me for a user with TOTP on vs off, interleaved 3 times; sign-ins with and without the challenge step");
    const mfaUsers = [await enrolledAccount(gh.url, "mfa-a"), await enrolledAccount(gh.url, "mfa-b")];
    await load({ ...meOf(gh, mfaUsers[0]!.accessToken), duration: WARMUP });
    const meMfa = await meInterleaved(`${gh.url}/trpc/auth.me`, { off: accessToken, on: mfaUsers[0]!.accessToken }, {
      connections: CONNECTIONS,
      duration: DURATION / 3,
      runs: 3,
    });
    const meOffRps = median(meMfa.off.map((r) => r.rps));
    const meOnRps = median(meMfa.on.map((r) => r.rps));
    const meMfaFailed = [...meMfa.off, ...meMfa.on].reduce((n, r) => n + r.non2xx + r.errors, 0);
    rows.push({
      figure: "auth.me over /trpc, PostgreSQL, user with TOTP on",
      value: `${fmt(meOnRps)} req/s (TOTP off: ${fmt(meOffRps)}; runs on ${meMfa.on.map((r) => fmt(r.rps)).join(", ")})${meMfaFailed ? `, ${meMfaFailed} failed` : ""}`,
      ratio: meOnRps / meOffRps,
      of: "auth.me, TOTP off, same run",
      target: "≈ 1 (≥ 0.95)",
      met: meOnRps / meOffRps >= 0.95 && meMfaFailed === 0,
    });
    const signIns = await signInTimes(gh.url, email, mfaUsers, 20);
    const plainMs = median(signIns.plain);
    const challengeMs = median(signIns.challenge);
    const verifyMs = median(signIns.verify);
    results.mfa = { meOff: meMfa.off, meOn: meMfa.on, signIns };
    rows.push({
      figure: "sign-in with TOTP on: auth.login (challenge) + auth.verifyMfa, sequential, medians of 20",
      value: `${(challengeMs + verifyMs).toFixed(1)} ms = login ${challengeMs.toFixed(1)} + verifyMfa ${verifyMs.toFixed(1)} (no second factor: ${plainMs.toFixed(1)} ms)`,
      ratio: (challengeMs + verifyMs) / plainMs,
      of: "auth.login without a second factor",
      target: "",
    });
    rows.push({
      figure: "the challenge step alone: auth.verifyMfa (recovery code)",
      value: `${verifyMs.toFixed(1)} ms`,
      ratio: verifyMs / plainMs,
      of: `auth.login without a second factor (${plainMs.toFixed(1)} ms, bcrypt cost ${BCRYPT_COST})`,
      target: "",
    });

    // --- 5: auth.me latency while a login flood runs ----------------------------------------
    const meRate = Math.max(50, Math.round(me.rps * 0.25));
    const meSteady = { ...meOf(gh, accessToken), connections: 8, overallRate: meRate };
    // Five pairs of short runs, alone then during a flood; medians of the p99s (one
    // p99 of a short run moves with any burst from elsewhere).
    progress(`auth.me at ${meRate} req/s, alone and during a login flood at ${(2 * ceiling).toFixed(1)}/s, 5 times`);
    await load({ ...meSteady, duration: WARMUP });
    const pairs: { alone: LoadResult; during: LoadResult; flood: LoadResult }[] = [];
    for (let i = 0; i < 5; i++) {
      const alone = await load({ ...meSteady, duration: DURATION / 3 });
      const [during, flood] = await Promise.all([
        load({ ...meSteady, duration: DURATION / 3 }),
        load({ ...loginLoad, connections: 100, overallRate: Math.max(1, Math.round(2 * ceiling)), duration: DURATION / 3 }),
      ]);
      pairs.push({ alone, during, flood });
    }
    const aloneP99 = median(pairs.map((p) => p.alone.p99));
    const duringP99 = median(pairs.map((p) => p.during.p99));
    const floodOk = pairs.reduce((n, p) => n + p.flood.ok, 0);
    const overloaded = pairs.reduce((n, p) => n + (p.flood.statusCodes["503"] ?? 0), 0);
    const meFailed = pairs.reduce((n, p) => n + p.during.non2xx + p.during.errors, 0);
    results.flood = { meRate, pairs, aloneP99, duringP99 };
    const p99Ratio = duringP99 / Math.max(aloneP99, 1);
    rows.push({
      figure: `auth.me p99 at ${meRate} req/s during a login flood (2x ceiling)`,
      value: `p99 ${duringP99} ms (runs ${pairs.map((p) => p.during.p99).join("/")}), alone ${aloneP99} ms (${pairs.map((p) => p.alone.p99).join("/")}); logins ${floodOk} ok, ${overloaded} OVERLOADED`,
      ratio: p99Ratio,
      of: "p99 without the flood (medians of 5)",
      target: "≤ 3",
      met: p99Ratio <= 3 && meFailed === 0,
    });

    // --- 6: memory: rounds of mixed load ----------------------------------------------------
    const rounds: number[] = [];
    for (let round = 1; round <= 3; round++) {
      progress(`memory: mixed round ${round}/3`);
      await Promise.all([
        load({ ...meOf(gh, accessToken), duration: DURATION / 2 }),
        load({ ...loginLoad, connections: CORES * 3, duration: DURATION / 2 }),
      ]);
      await new Promise((r) => setTimeout(r, 500));
      rounds.push(memoryOf(gh.proc.pid!).rss);
    }
    const peak = memoryOf(gh.proc.pid!).peak;
    results.memory = { rounds, peak };
    rows.push({
      figure: "peak RSS of the server (all of the above)",
      value: `${MB(peak).toFixed(0)} MB`,
      ratio: peak / RSS_BUDGET,
      of: "150 MB budget",
      target: "≤ 1",
      met: peak <= RSS_BUDGET,
    });
    const growth = rounds[rounds.length - 1]! - rounds[0]!;
    rows.push({
      figure: "RSS after mixed rounds 1, 2, 3",
      value: `${rounds.map((r) => MB(r).toFixed(0)).join(" / ")} MB (${growth >= 0 ? "+" : ""}${MB(growth).toFixed(1)})`,
      ratio: rounds[rounds.length - 1]! / rounds[0]!,
      of: "round 1",
      target: "flat (≈ 1)",
      met: rounds[rounds.length - 1]! / rounds[0]! <= 1.1,
    });
    await stop(gh);

    // --- the stock tRPC adapter, for comparison ----------------------------------------------
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

    // --- what observability costs auth.me ---------------------------------------------------
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

    // --- 2 on PGlite, and 7: start-up on both databases -------------------------------------
    progress("Gatehouse and the raw baseline on embedded PGlite (in memory), interleaved 2 times");
    const lite = await spawnTracked(spawnGatehouse(gatehouseEnv({})));
    const liteAccount = await registerAccount(lite.url, "lite");
    // The baseline holds its own PGlite: give it the same user and session rows.
    const claims = jwt.decode(liteAccount.accessToken) as { sub: string; sid: string };
    const liteBaseline = await spawnTracked(
      spawnChild("baseline-pglite", ["--import", "tsx", "bench/baseline-server.ts"], {
        JWT_SECRET: SECRET,
        BASELINE_SEED: JSON.stringify({ userId: claims.sub, sessionId: claims.sid, email: liteAccount.email, name: "Bench" }),
      }),
    );
    await load({ ...meOf(liteBaseline, liteAccount.accessToken, "/me"), duration: WARMUP });
    await load({ ...meOf(lite, liteAccount.accessToken), duration: WARMUP });
    const liteBaseRuns: LoadResult[] = [];
    const liteRuns: LoadResult[] = [];
    for (let i = 0; i < 2; i++) {
      liteBaseRuns.push(await load({ ...meOf(liteBaseline, liteAccount.accessToken, "/me"), duration: DURATION / 3 }));
      liteRuns.push(await load({ ...meOf(lite, liteAccount.accessToken), duration: DURATION / 3 }));
    }
    await stop(liteBaseline);
    const liteBaseRps = median(liteBaseRuns.map((r) => r.rps));
    const liteRps = median(liteRuns.map((r) => r.rps));
    const failedLite = [...liteRuns, ...liteBaseRuns].reduce((n, r) => n + r.non2xx + r.errors, 0);
    results.pglite = { baseline: liteBaseRuns, me: liteRuns };
    rows.push({
      figure: "baseline on PGlite: raw node:http + PGlite in memory (same work)",
      value: `${fmt(liteBaseRps)} req/s`,
      ratio: liteBaseRps / baseRps,
      of: "baseline (PostgreSQL)",
      target: "",
    });
    rows.push({
      figure: "auth.me over /trpc, embedded PGlite",
      value: `${fmt(liteRps)} req/s, p99 ${median(liteRuns.map((r) => r.p99))} ms${failedLite ? `, ${failedLite} failed` : ""}`,
      ratio: liteRps / liteBaseRps,
      of: "baseline on PGlite",
      target: "≥ 0.6",
      met: liteRps / liteBaseRps >= 0.6 && failedLite === 0,
    });
    await stop(lite);

    // --- WEB_CONCURRENCY: 1 vs N workers ------------------------------------------------------
    // Both servers run side by side and are measured in turns, at the bench's
    // connection count and at 100 (more requests in flight per worker).
    const workers = Math.max(2, CORES);
    progress(`1 vs ${workers} workers (WEB_CONCURRENCY), interleaved, at ${CONNECTIONS} and 100 connections`);
    const single = await spawnTracked(spawnGatehouse(gatehouseEnv({ DATABASE_URL: scratch.url })));
    const clustered = await spawnTracked(spawnGatehouse(gatehouseEnv({ DATABASE_URL: scratch.url, WEB_CONCURRENCY: String(workers) })));
    for (let waited = 0; !clustered.log().includes("gatehouse cluster ready"); waited += 50) {
      if (waited > 60_000) throw new Error(`cluster not ready:\n${clustered.log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const scaling: Record<number, { one: LoadResult[]; many: LoadResult[]; busyOne: number; busyMany: number }> = {};
    for (const connections of [CONNECTIONS, 100]) {
      const at = (child: Child, duration: number) => load({ ...meOf(child, accessToken), connections, duration });
      await at(single, WARMUP / 2);
      await at(clustered, WARMUP / 2);
      const one: LoadResult[] = [];
      const many: LoadResult[] = [];
      const busy = { one: [] as number[], many: [] as number[] };
      for (let i = 0; i < 2; i++) {
        let cpu = machineCpu();
        one.push(await at(single, DURATION / 3));
        busy.one.push(machineCpu().busySince(cpu));
        cpu = machineCpu();
        many.push(await at(clustered, DURATION / 3));
        busy.many.push(machineCpu().busySince(cpu));
      }
      const oneRps = median(one.map((r) => r.rps));
      const manyRps = median(many.map((r) => r.rps));
      const busyOne = median(busy.one);
      const busyMany = median(busy.many);
      scaling[connections] = { one, many, busyOne, busyMany };
      rows.push({
        figure: `auth.me over /trpc, PostgreSQL, WEB_CONCURRENCY=${workers}, ${connections} connections`,
        value: `${fmt(manyRps)} req/s (1 worker: ${fmt(oneRps)}); all ${CORES} cores busy ${pct(busyMany)} (1 worker: ${pct(busyOne)}), server + PostgreSQL + load generator`,
        ratio: manyRps / oneRps,
        of: "1 worker, same run",
        target: "> 1",
        met: manyRps > oneRps,
      });
    }
    results.workers = { workers, scaling };
    await stop(clustered);
    await stop(single);
    await stop(baseline);

    // Start-up: fresh processes, nothing else running; the scratch database is already migrated.
    progress("start-up times");
    const startBase = await spawnChild("baseline", ["--import", "tsx", "bench/baseline-server.ts"], { DATABASE_URL: scratch.url, JWT_SECRET: SECRET });
    await startBase.stop();
    const startPg = await spawnGatehouse(gatehouseEnv({ DATABASE_URL: scratch.url }));
    await startPg.stop();
    const startLite = await spawnGatehouse(gatehouseEnv({}));
    await startLite.stop();
    results.startup = { baselineMs: startBase.startupMs, postgresMs: startPg.startupMs, pgliteMs: startLite.startupMs };

    // Cold starts through `npm start` itself, as a new user meets them (bench/lib/cold-start.ts).
    progress("cold starts: npm start on a fresh DATA_DIR (with and without the template), reopened, PostgreSQL; a no-op npm install");
    const cold = await coldStarts(scratch.url);
    results.coldStart = cold;
    const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const coldRow = (figure: string, start: ColdStart, targetMs: number, rssTarget?: number) => {
      rows.push({
        figure,
        value: `${seconds(start.ms)}, peak RSS ${MB(start.peakRss).toFixed(0)} MB`,
        ratio: start.ms / targetMs,
        of: `target ${seconds(targetMs)}${rssTarget ? ` and ${MB(rssTarget).toFixed(0)} MB` : ""}`,
        target: "≤ 1",
        met: start.ms <= targetMs && (rssTarget === undefined || start.peakRss <= rssTarget),
      });
    };
    coldRow("cold start: npm start to /readyz, fresh DATA_DIR (after install: built, template made)", cold.fresh, 5_000, 300 * 1024 * 1024);
    rows.push({
      figure: "cold start: the same from the migrated template vs initdb + every migration",
      value: `${seconds(cold.fresh.ms)} vs ${seconds(cold.withoutTemplate.ms)} (peak RSS ${MB(cold.fresh.peakRss).toFixed(0)} vs ${MB(cold.withoutTemplate.peakRss).toFixed(0)} MB)`,
      ratio: cold.fresh.ms / cold.withoutTemplate.ms,
      of: "start without the template, same run",
      target: "< 1",
      met: cold.fresh.ms < cold.withoutTemplate.ms,
    });
    coldRow("cold start: npm start to /readyz, embedded database reopened", cold.reopened, 2_000);
    coldRow("cold start: npm start to /readyz, PostgreSQL (migrated)", cold.postgres, 1_000);
    rows.push({
      figure: "no-op npm install (nothing to install, generate, build or template)",
      value: seconds(cold.noopInstallMs),
      ratio: cold.noopInstallMs / 5_000,
      of: "target 5 s",
      target: "≤ 1",
      met: cold.noopInstallMs <= 5_000,
    });
    for (const [name, child] of [["PostgreSQL (migrated)", startPg], ["embedded PGlite (in memory, migrates)", startLite]] as const) {
      rows.push({
        figure: `start-up to /readyz, ${name}`,
        value: `${fmt(child.startupMs)} ms`,
        ratio: child.startupMs / startBase.startupMs,
        of: `baseline start-up ${fmt(startBase.startupMs)} ms`,
        target: "",
      });
    }
  } finally {
    for (const child of children.splice(0)) await child.stop();
    await scratch.drop();
  }

  const machine = {
    cpu: `${cpus()[0]?.model ?? "?"} x ${CORES}`,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg()[0],
  };
  const seconds = (performance.now() - started) / 1000;
  printTable(rows, machine, seconds);
  const bars: Bar[] = rows
    .filter((r) => r.of !== "itself")
    .map((r) => ({ label: r.figure, ratio: r.ratio, of: r.of, target: r.target, met: r.met }));
  writeFileSync(join(ROOT, "bench/results.json"), `${JSON.stringify({ date: new Date().toISOString(), durationSeconds: DURATION, seconds, machine, rows, results }, null, 2)}\n`);
  writeFileSync(join(ROOT, "bench/results.svg"), renderChart(bars, `Gatehouse bench, ${new Date().toISOString().slice(0, 10)}: ${machine.cpu}, Node ${machine.node}`));
  progress(`done in ${seconds.toFixed(0)} s: bench/results.json, bench/results.svg`);
}

/** An OTLP/HTTP receiver that reads and drops what it is sent. */
async function otlpSink(): Promise<{ url: string; requests(): number; close(): void }> {
  const { createServer } = await import("node:http");
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      requests++;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests: () => requests, close: () => server.close() };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function printTable(rows: Row[], machine: Record<string, unknown>, seconds: number): void {
  const header = ["figure", "value", "ratio", "of", "target"];
  const cells = rows.map((r) => [r.figure, r.value, r.ratio.toFixed(2), r.of, r.target ? `${r.target} ${r.met === undefined ? "" : r.met ? "✓" : "✗"}` : ""]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(`\nGatehouse bench: ${machine.cpu}, ${machine.memoryGb} GB, Node ${machine.node}; ${DURATION} s per measurement, ${seconds.toFixed(0)} s in all; load average ${(machine.loadAverageBefore as number).toFixed(2)} before, ${(machine.loadAverageAfter as number).toFixed(2)} after\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const c of cells) console.log(line(c));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
