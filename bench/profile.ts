/**
 * `npm run bench:profile`: where does an `auth.me` request spend its CPU?
 * Starts Gatehouse under `node --cpu-prof` on a scratch PostgreSQL database
 * (or PGlite with BENCH_DB=pglite), loads `auth.me` for BENCH_DURATION
 * seconds, stops it, and prints the top self-time functions and packages.
 */
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load, registerAccount } from "./lib/load.ts";
import { createScratchDatabase } from "./lib/postgres.ts";
import { buildServer } from "../tests/helpers/production-server.ts";
import { summarise } from "./lib/cpu-profile.ts";
import { spawnGatehouse } from "./lib/processes.ts";
import { gatehouseEnv } from "./lib/context.ts";

const duration = Number(process.env.BENCH_DURATION ?? 10);
const pgServer = process.env.BENCH_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const usePglite = process.env.BENCH_DB === "pglite";
const procedure = process.env.BENCH_PROCEDURE ?? "auth.me";
const dir = mkdtempSync(join(tmpdir(), "gatehouse-prof-"));

buildServer();
const scratch = usePglite ? null : await createScratchDatabase(pgServer);
try {
  const spawned = performance.now();
  const server = await spawnGatehouse(
    gatehouseEnv({
      LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
      ...(scratch ? { DATABASE_URL: scratch.url } : {}),
      ...(process.env.TRPC_ADAPTER ? { TRPC_ADAPTER: process.env.TRPC_ADAPTER } : {}),
    }),
    ["--cpu-prof", `--cpu-prof-dir=${dir}`],
  );
  const { accessToken } = await registerAccount(server.url, "prof");
  const loadStarted = performance.now();
  const result = await load({
    url: `${server.url}/trpc/${procedure}`,
    headers: { authorization: `Bearer ${accessToken}` },
    connections: 32,
    duration,
  });
  console.log(`${procedure}: ${Math.round(result.rps)} req/s, p99 ${result.p99} ms, non2xx ${result.non2xx}`);
  await server.stop();
  const file = join(dir, readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))!);
  const { functions, packages, inclusive, idle } = summarise(file, Number(process.env.BENCH_TOP ?? 25), loadStarted - spawned);
  console.log(`\nprofile: ${file}, start-up left out (idle ${(idle * 100).toFixed(1)}%)\n\nself time by package (share of busy time):`);
  for (const p of packages.slice(0, 15)) console.log(`  ${(p.share * 100).toFixed(1).padStart(5)}%  ${p.name}`);
  console.log("\ntop self-time functions:");
  for (const f of functions) console.log(`  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}`);
  console.log("\ntop inclusive (self + callees) functions:");
  for (const f of inclusive) console.log(`  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}`);
} finally {
  await scratch?.drop();
}
