/** Runs the real entry point (`server/main.ts`) as a child process, as `npm start` does. */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface SpawnedServer {
  proc: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts the server with the given environment on port 0 and waits until it listens. */
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

/** Spawns `server/main.ts` without waiting for anything. */
export function spawnMain(env: Record<string, string>) {
  let text = "";
  const proc = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  proc.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return { proc, output: () => text, exited };
}
