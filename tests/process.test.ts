/** The process as `npm start` runs it: start-up checks, persistence, logs, graceful shutdown. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { newAccount } from "./helpers/caller.ts";
import { spawnMain, spawnServer } from "./helpers/production-server.ts";

const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-process-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function call(url: string, path: string, input: unknown, token?: string) {
  const res = await fetch(`${url}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ json: input }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** A production JWT_SECRET as `openssl rand -base64 32` makes one. */
const PRODUCTION_SECRET = "Zq8Vt1mK3xR7bN0cW5yJ2hL9dF4gS6aP-Ue3Oi7Tn0A=";

describe("start-up checks", () => {
  it.each([
    [{ BCRYPT_COST: "abc" }, "BCRYPT_COST"],
    [{ PORT: "not-a-port" }, "PORT"],
    [{ ACCESS_TOKEN_TTL: "soon" }, "ACCESS_TOKEN_TTL"],
    [{ NODE_ENV: "production" }, "JWT_SECRET"],
    [{ NODE_ENV: "production", JWT_SECRET: "short" }, "JWT_SECRET"],
    [{ NODE_ENV: "production", JWT_SECRET: PRODUCTION_SECRET, APP_URL: "https://app.example.com", ENCRYPTION_KEY: "e".repeat(64), BCRYPT_COST: "8" }, "BCRYPT_COST"],
    [{ NODE_ENV: "production", JWT_SECRET: "x".repeat(40), APP_URL: "https://app.example.com", ENCRYPTION_KEY: "e".repeat(64) }, "JWT_SECRET: is a short pattern repeated"],
    [{ NODE_ENV: "production", JWT_SECRET: PRODUCTION_SECRET, ENCRYPTION_KEY: "e".repeat(64) }, "APP_URL"],
    [{ NODE_ENV: "production", JWT_SECRET: PRODUCTION_SECRET, APP_URL: "https://app.example.com", BCRYPT_COST: "10" }, "ENCRYPTION_KEY"],
    [{ DATABASE_URL: "postgres://127.0.0.1:1/none" }, "NODE_ENV: not set while DATABASE_URL is set"],
  ])("exits non-zero naming the variable: %j", async (env, name) => {
    const { output, exited } = spawnMain({ DATA_DIR: ":memory:", ...env });
    expect(await exited).not.toBe(0);
    expect(output()).toContain(name);
  });
});

describe("a running server", () => {
  it("persists data and its development secret in DATA_DIR, logs requests without secrets, and shuts down cleanly", async () => {
    const account = newAccount({ password: "a very particular passphrase" });
    const first = await spawnServer({ DATA_DIR: dataDir, BCRYPT_COST: "10" });
    expect(first.output()).toMatch(/JWT_SECRET is not set/);
    expect(readFileSync(join(dataDir, "jwt-secret"), "utf8").length).toBeGreaterThanOrEqual(32);

    const registered = await call(first.url, "auth.register", account);
    expect(registered.status).toBe(200);
    const { accessToken, refreshToken } = registered.body.result.data.json;

    // A login in flight when SIGTERM arrives still gets its answer.
    const inFlight = call(first.url, "auth.login", { email: account.email, password: account.password });
    await new Promise((resolve) => setTimeout(resolve, 30));
    first.proc.kill("SIGTERM");
    expect((await inFlight).status).toBe(200);
    expect(await first.exited).toBe(0);
    await expect(fetch(`${first.url}/healthz`)).rejects.toThrow();

    const logs = first.output();
    expect(logs).toMatch(/"path":"\/trpc\/auth.register","status":200/);
    expect(logs).toMatch(/"requestId":"[^"]+"/);
    expect(logs).not.toContain(account.password);
    expect(logs).not.toContain(accessToken);
    expect(logs).not.toContain(refreshToken.split(".")[1]);

    // Same DATA_DIR: same database, same secret, so the old token still works.
    const second = await spawnServer({ DATA_DIR: dataDir, BCRYPT_COST: "10" });
    try {
      expect(second.output()).not.toMatch(/JWT_SECRET is not set/);
      const me = await fetch(`${second.url}/trpc/auth.me`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect(me.status).toBe(200);
      expect(((await me.json()) as any).result.data.json.email).toBe(account.email);
    } finally {
      second.proc.kill("SIGINT");
      expect(await second.exited).toBe(0);
    }
  });

  it("hides internal details in production", async () => {
    const server = await spawnServer({ DATA_DIR: ":memory:", NODE_ENV: "production", JWT_SECRET: PRODUCTION_SECRET, APP_URL: "https://app.example.com", BCRYPT_COST: "10", ENCRYPTION_KEY: "e".repeat(64) });
    try {
      const res = await call(server.url, "auth.login", { email: "nobody@example.com", password: "wrong password" });
      expect(res.status).toBe(401);
      expect(JSON.stringify(res.body)).not.toMatch(/stack|\.ts|node_modules/);
      expect((await fetch(`${server.url}/panel`)).status).toBe(404);
    } finally {
      server.proc.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    }
  });
});
