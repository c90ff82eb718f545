import { spawnChild, spawnGatehouse } from "../lib/processes.ts";
import { gatehouseEnv, progress, fmt, MB, SECRET, type BenchContext } from "../lib/context.ts";
import { coldStarts, type ColdStart } from "../lib/cold-start.ts";

/** 7: start-up times of fresh processes, and cold starts through npm start. */
export async function startup(ctx: BenchContext): Promise<void> {
  const { rows, results, scratch } = ctx;
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
}
