/**
 * Child processes the bench measures: the server as `npm start` runs it (the
 * compiled build, tests/helpers/production-server.ts) and the raw baseline.
 * Each listens on a port picked here, logs to a file (never to a pipe the
 * bench would have to drain), and is ready when its `/readyz` answers 200.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../tests/helpers/ports.ts";
import { serverArgs, serverEnv } from "../../tests/helpers/production-server.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const LOG_DIR = mkdtempSync(join(tmpdir(), "gatehouse-bench-"));

export interface Child {
  proc: ChildProcess;
  url: string;
  /** Milliseconds from spawn to the first 200 of `/readyz`. */
  startupMs: number;
  /** The log written so far. */
  log(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

let counter = 0;

/** Spawns `node <args>` with the environment and waits for `/readyz`. */
export async function spawnChild(name: string, args: string[], env: Record<string, string>): Promise<Child> {
  const port = await freePort();
  const logFile = join(LOG_DIR, `${name}-${++counter}.log`);
  const fd = openSync(logFile, "w");
  const started = performance.now();
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: String(port), ...env },
    stdio: ["ignore", fd, fd],
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  let dead = false;
  void exited.then(() => (dead = true));
  const url = `http://127.0.0.1:${port}`;
  const log = () => readFileSync(logFile, "utf8");
  for (;;) {
    if (dead) throw new Error(`${name} exited before it was ready:\n${log()}`);
    if (performance.now() - started > 60_000) {
      proc.kill("SIGKILL");
      throw new Error(`${name} not ready after 60 s:\n${log()}`);
    }
    try {
      const res = await fetch(`${url}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const startupMs = performance.now() - started;
  return {
    proc,
    url,
    startupMs,
    log,
    async stop() {
      if (!dead) proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** The Gatehouse entry point, as `npm start` runs it (call `buildServer()` first). */
export function spawnGatehouse(env: Record<string, string>, nodeArgs: string[] = []): Promise<Child> {
  return spawnChild("gatehouse", [...nodeArgs, ...serverArgs()], { ...serverEnv(), ...env });
}

/** Resident set size now and at its peak (VmHWM), in bytes, of one process (Linux). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}
