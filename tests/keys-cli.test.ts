/**
 * `npm run keys -- rotate | list` against an embedded database, and
 * `examples/resource-server.ts` verifying Gatehouse tokens through
 * `gatehouse/verify`, both as their users run them (child processes).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../server/services.ts";
import { callerFor, newAccount } from "./helpers/caller.ts";
import { openTestDatabase } from "./helpers/database.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { testServices } from "./helpers/services.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** Each CLI run is its own Node process booting an embedded database; a loaded machine needs minutes. */
const CLI_TIMEOUT = 180_000;

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, output }));
  });
}

describe("npm run keys", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-keys-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { DATA_DIR: dataDir, NODE_ENV: "development", LOG_LEVEL: "silent" };

  it("rotate makes a key that signs at once on an empty database, then one that waits while the first retires", { timeout: CLI_TIMEOUT }, async () => {
    const first = await run(["scripts/keys.ts", "rotate"], { ...env, JWT_ALG: "ES256" });
    expect(first.output).toMatch(/^new ES256 key [\w-]{43}: published now, signs from /m);
    expect(first.code).toBe(0);
    const second = await run(["scripts/keys.ts", "rotate"], { ...env, JWT_ALG: "ES256" });
    expect(second.code).toBe(0);
    const signsFrom = (out: string) => Date.parse(/signs from (\S+)/.exec(out)![1]!);
    // The second key waits two refresh intervals (2 x 30 s) so every instance knows it before it signs.
    expect(signsFrom(second.output) - signsFrom(first.output)).toBeGreaterThanOrEqual(60_000);
    const list = await run(["scripts/keys.ts", "list"], { ...env, JWT_ALG: "ES256" });
    const lines = list.output.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/ES256 {2}signs from \S+ {2}retires \S+$/);
    expect(lines[1]).toMatch(/ES256 {2}signs from \S+ {2}current$/);
  });

  it("rotate with JWT_ALG=HS256 refuses, saying why, and exits 1", { timeout: CLI_TIMEOUT }, async () => {
    const result = await run(["scripts/keys.ts", "rotate"], env);
    expect(result.output).toContain("JWT_ALG is HS256: tokens are signed with JWT_SECRET, there is no key to rotate");
    expect(result.code).toBe(1);
  });
});

describe("examples/resource-server.ts", () => {
  let services: Services;
  let gatehouse: string;
  let child: ChildProcess | undefined;
  let resource: string;

  // Registered here, not inside beforeAll: a hook registered while beforeAll
  // runs is not run, and the resource server outlived the suite.
  afterAll(async () => {
    const server = child;
    if (server === undefined || server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  });

  beforeAll(async () => {
    services = await testServices(await openTestDatabase(), { env: { JWT_ALG: "ES256" } });
    afterAll(() => services.close());
    gatehouse = (await startTestServer(services)).url;
    const server = spawn(process.execPath, ["--import", "tsx", "examples/resource-server.ts"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", GATEHOUSE_URL: gatehouse, RESOURCE_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = server;
    resource = await new Promise<string>((resolve, reject) => {
      let out = "";
      server.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
      server.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const url = /resource server on (http:\/\/\S+),/.exec(out)?.[1];
        if (url) resolve(url);
      });
      server.on("exit", (code) => reject(new Error(`resource server exited with ${code}: ${out}`)));
    });
  }, CLI_TIMEOUT);

  it("answers a Gatehouse user from the token alone, and 401 without one or with a forged one", async () => {
    const auth = await callerFor(services).auth.register(newAccount());
    const ok = await fetch(`${resource}/whoami`, { headers: { authorization: `Bearer ${auth.accessToken}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ userId: auth.user.id, roles: [] });
    expect((await fetch(`${resource}/whoami`)).status).toBe(401);
    const [h, , s] = auth.accessToken.split(".");
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: "someone-else" })).toString("base64url")}.${s}`;
    const refused = await fetch(`${resource}/whoami`, { headers: { authorization: `Bearer ${forged}` } });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: "TOKEN_INVALID" });
  });
});
