/**
 * The server as `npm start` runs it: the compiled build (`npm run build`,
 * into dist/app) under `node` with the flags of package.json's
 * `config.nodeFlags` and the variables of its `config.nodeEnv`. The process
 * tests, the bench and `npm run load` start it through here, so that they
 * test and measure what is deployed.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Compiles the server into dist/app, as `npm start` does first. */
export function buildServer(): void {
  execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
}

function packageConfig(key: "nodeFlags" | "nodeEnv"): string[] {
  const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8")) as { config?: Record<string, string> };
  return (pkg.config?.[key] ?? "").split(/\s+/).filter(Boolean);
}

/** The arguments of `node` that `npm start` runs (after the build). */
export function serverArgs(): string[] {
  return [...packageConfig("nodeFlags"), "dist/app/server/main.js"];
}

/** The variables `npm start` sets for the server process (`NAME=value` pairs). */
export function serverEnv(): Record<string, string> {
  return Object.fromEntries(packageConfig("nodeEnv").map((pair) => pair.split("=", 2) as [string, string]));
}

export interface SpawnedServer {
  proc: ChildProcess;
  url: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Starts the built server with the given environment (on port 0 unless PORT
 * is given) and waits until it logs the address it listens on.
 */
export async function spawnServer(env: Record<string, string>): Promise<SpawnedServer> {
  const { proc, output, exited } = spawnMain(env);
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output());
      if (match) {
        proc.stdout!.off("data", onData);
        resolve(match[1]!);
      }
    };
    proc.stdout!.on("data", onData);
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening:\n${output()}`)));
  });
  return { proc, url, output, exited };
}

/** Spawns the built server without waiting for anything. */
export function spawnMain(env: Record<string, string>) {
  let text = "";
  const proc = spawn(process.execPath, serverArgs(), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", ...serverEnv(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
  proc.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return { proc, output: () => text, exited };
}
