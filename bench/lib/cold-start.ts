/**
 * Cold starts, as a new user meets them: `npm start` itself (its up-to-date
 * check, then node), timed from the command to the first 200 of `/readyz`,
 * with the server's peak resident memory (VmHWM, read once it is ready):
 *
 * - a fresh DATA_DIR, as after a fresh clone and `npm install` (which built
 *   the server and made the embedded database's migrated template);
 * - the same without the template (initdb and every migration): the
 *   baseline the template is measured against, same run;
 * - that DATA_DIR reopened;
 * - PostgreSQL, already migrated;
 * - a no-op `npm install` (nothing to install, generate or build).
 *
 * Development defaults, as `npm start` on a fresh clone: no environment but
 * HOST, PORT and DATA_DIR (and DATABASE_URL with NODE_ENV for PostgreSQL).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { templateFile } from "../../server/db/pglite-template.ts";
import { freePort } from "../../tests/helpers/ports.ts";
import { memoryOf, ROOT } from "./processes.ts";

export interface ColdStart {
  ms: number;
  peakRss: number;
}

/** `npm start` with this environment; the time to `/readyz` and the server's peak RSS. Stops it again. */
async function npmStart(env: Record<string, string>): Promise<ColdStart> {
  const port = await freePort();
  const logDir = mkdtempSync(join(tmpdir(), "gatehouse-cold-"));
  const logFile = join(logDir, "server.log");
  const fd = openSync(logFile, "w");
  const started = performance.now();
  const proc = spawn("npm", ["start", "--silent"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", HOST: "127.0.0.1", PORT: String(port), ...env },
    stdio: ["ignore", fd, fd],
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  let dead = false;
  void exited.then(() => (dead = true));
  try {
    for (;;) {
      if (dead) throw new Error(`npm start exited before it was ready:\n${readFileSync(logFile, "utf8")}`);
      if (performance.now() - started > 120_000) throw new Error(`npm start not ready after 120 s:\n${readFileSync(logFile, "utf8")}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        async (res) => (await res.arrayBuffer(), res.status === 200),
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const ms = performance.now() - started;
    // `npm start` execs node: the server is the process that logged "gatehouse listening".
    const pid = Number(/"pid":(\d+)[^\n]*"msg":"gatehouse listening"/.exec(readFileSync(logFile, "utf8"))?.[1]);
    return { ms, peakRss: memoryOf(pid).peak };
  } finally {
    proc.kill("SIGTERM");
    await exited;
    rmSync(logDir, { recursive: true, force: true });
  }
}

/** A fresh, a template-less and a reopened embedded start, a PostgreSQL start, and a no-op install. */
export async function coldStarts(postgresUrl: string): Promise<{
  fresh: ColdStart;
  withoutTemplate: ColdStart;
  reopened: ColdStart;
  postgres: ColdStart;
  noopInstallMs: number;
}> {
  // Up to date first: the figures below are starts, not builds.
  execFileSync("node", ["scripts/prepare-start.mjs", "--template"], { cwd: ROOT, stdio: "ignore" });
  const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-data-"));
  const bare = mkdtempSync(join(tmpdir(), "gatehouse-data-"));
  const template = templateFile();
  if (!existsSync(template)) throw new Error(`no embedded database template at ${template}`);
  try {
    const fresh = await npmStart({ DATA_DIR: dataDir });
    const reopened = await npmStart({ DATA_DIR: dataDir });
    // The baseline: the template moved aside for one start.
    renameSync(template, `${template}.aside`);
    let withoutTemplate: ColdStart;
    try {
      withoutTemplate = await npmStart({ DATA_DIR: bare });
    } finally {
      renameSync(`${template}.aside`, template);
    }
    const postgres = await npmStart({ DATABASE_URL: postgresUrl, NODE_ENV: "development", DATA_DIR: dataDir });
    const before = performance.now();
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: ROOT, stdio: "ignore" });
    const noopInstallMs = performance.now() - before;
    return { fresh, withoutTemplate, reopened, postgres, noopInstallMs };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(bare, { recursive: true, force: true });
  }
}
