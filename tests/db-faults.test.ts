/**
 * Database outages (docs/API.md): procedures answer DB_UNAVAILABLE (503),
 * /readyz 503, the process stays up, and it recovers by itself when the
 * database is back. PostgreSQL is reached through a TCP proxy the test
 * controls: closed (connections reset, new ones refused) or silent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEnv } from "../server/env.ts";
import { createServer } from "../server/http/server.ts";
import { createServices, type Services } from "../server/services.ts";
import { newAccount } from "./helpers/caller.ts";
import { onPostgres, scratchPostgresUrl, silentLog } from "./helpers/database.ts";
import { dataOf, expectError, mutate, query, type Answer } from "./helpers/http.ts";
import { TEST_SECRET } from "./helpers/services.ts";
import { spawnServer, type SpawnedServer } from "./helpers/production-server.ts";
import { startTcpProxy, throughPort, type TcpProxy } from "./helpers/tcp-proxy.ts";

/** The longest a request may wait for the database before it is answered (pool connect timeout + margin). */
const MAX_WAIT_MS = 4_500;

async function timed(call: Promise<Answer>): Promise<Answer & { ms: number }> {
  const started = Date.now();
  const answer = await call;
  return { ...answer, ms: Date.now() - started };
}

async function readyz(base: string): Promise<number> {
  return (await fetch(`${base}/readyz`)).status;
}

async function untilReady(base: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await readyz(base)) !== 200) {
    if (Date.now() > deadline) throw new Error("not ready again in time");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(!onPostgres)(`database outage${onPostgres ? "" : " (skipped: needs PostgreSQL, set TEST_DATABASE_URL)"}`, () => {
  let databaseUrl: string;
  let proxy: TcpProxy;

  beforeAll(async () => {
    databaseUrl = await scratchPostgresUrl();
    const target = new URL(databaseUrl);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  });

  afterAll(() => proxy.close());

  describe("the real process, database connection refused", () => {
    let server: SpawnedServer;

    beforeAll(async () => {
      server = await spawnServer({
        NODE_ENV: "test",
        DATABASE_URL: throughPort(databaseUrl, proxy.port),
        JWT_SECRET: TEST_SECRET,
        BCRYPT_COST: "4",
        DATA_DIR: ":memory:",
      });
    });

    afterAll(async () => {
      server.proc.kill("SIGTERM");
      await server.exited;
    });

    it("answers DB_UNAVAILABLE and /readyz 503 while the database is gone, stays up, and recovers by itself", async () => {
      const account = newAccount();
      const { accessToken, refreshToken } = dataOf(await mutate(server.url, "auth.register", account));
      expect(await readyz(server.url)).toBe(200);

      await proxy.stop();
      const during = [
        await timed(mutate(server.url, "auth.login", { email: account.email, password: account.password })),
        await timed(mutate(server.url, "auth.login", { email: "nobody@example.com", password: account.password })),
        await timed(mutate(server.url, "auth.register", newAccount())),
        await timed(mutate(server.url, "auth.refresh", { refreshToken })),
        await timed(query(server.url, "auth.me", undefined, { token: accessToken })),
        await timed(query(server.url, "health")),
      ];
      for (const answer of during) {
        const error = expectError(answer, 503, "DB_UNAVAILABLE");
        expect(error.message).toBe("Database unavailable, try again later");
        expect(answer.ms).toBeLessThan(MAX_WAIT_MS);
      }
      expect(await readyz(server.url)).toBe(503);
      expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: "unavailable" });
      // The process itself is fine.
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect(server.proc.exitCode).toBeNull();

      await proxy.start();
      await untilReady(server.url);
      dataOf(await mutate(server.url, "auth.login", { email: account.email, password: account.password }));
      expect(dataOf(await query(server.url, "auth.me", undefined, { token: accessToken })).email).toBe(account.email);
      expect(server.output()).not.toMatch(/"level":(50|60)/);
    });
  });

  describe("in process, database silent or lost mid-request", () => {
    let services: Services;
    let base: string;

    beforeAll(async () => {
      const config = parseEnv({
        NODE_ENV: "test",
        JWT_SECRET: TEST_SECRET,
        BCRYPT_COST: "12",
        DATA_DIR: ":memory:",
        LOG_LEVEL: "silent",
        DATABASE_URL: throughPort(databaseUrl, proxy.port),
      });
      services = await createServices(config, { log: silentLog });
      const server = createServer(services);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      afterAll(async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await services.close();
      });
    });

    it("answers within the connect timeout when the database accepts connections but never replies", async () => {
      const account = newAccount();
      const { accessToken } = dataOf(await mutate(base, "auth.register", account));
      await proxy.blackhole();
      try {
        const answers = await Promise.all([
          timed(query(base, "auth.me", undefined, { token: accessToken })),
          timed(mutate(base, "auth.login", { email: account.email, password: account.password })),
          ...Array.from({ length: 8 }, () => timed(query(base, "health"))),
        ]);
        for (const answer of answers) {
          expectError(answer, 503, "DB_UNAVAILABLE");
          expect(answer.ms).toBeLessThan(MAX_WAIT_MS);
        }
        expect(await readyz(base)).toBe(503);
      } finally {
        await proxy.start();
      }
      await untilReady(base);
      expect(dataOf(await query(base, "auth.me", undefined, { token: accessToken })).email).toBe(account.email);
    });

    it("answers DB_UNAVAILABLE, not 500, when the database goes away while a login is hashing", async () => {
      const account = newAccount();
      dataOf(await mutate(base, "auth.register", account));
      // bcrypt at cost 12 takes a few hundred ms: the user lookup is done, the session insert is not.
      const login = timed(mutate(base, "auth.login", { email: account.email, password: account.password }));
      await new Promise((resolve) => setTimeout(resolve, 60));
      await proxy.stop();
      try {
        expectError(await login, 503, "DB_UNAVAILABLE");
      } finally {
        await proxy.start();
      }
      await untilReady(base);
      dataOf(await mutate(base, "auth.login", { email: account.email, password: account.password }));
    });
  });
});
