/** `examples/frontend.ts` runs as a frontend would, against a live server whose access tokens live 1 s. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, expect, it } from "vitest";
import { openTestDatabase } from "./helpers/database.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { testServices } from "./helpers/services.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
let url: string;

beforeAll(async () => {
  const services = await testServices(await openTestDatabase(), { env: { ACCESS_TOKEN_TTL: "1s" } });
  url = `${(await startTestServer(services)).url}/trpc`;
});

function runExample(file: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, output }));
  });
}

it("registers, reads me, survives the token's expiry by refreshing, and logs out", async () => {
  const { code, output } = await runExample("examples/frontend.ts", { GATEHOUSE_URL: url });
  expect(output).toMatch(/^registered ada-\d+@example\.com \(access token valid 1s\)$/m);
  expect(output).toMatch(/^me: Ada Lovelace <ada-\d+@example\.com>, since \d{4}-\d\d-\d\dT/m);
  expect(output).toContain("waiting 7s for the access token to expire...");
  expect(output).toMatch(/^me again: ada-\d+@example\.com \(token refreshed: true\)$/m);
  expect(output).toContain("logged out (tokens stored: none)");
  expect(code).toBe(0);
}, 60_000);
