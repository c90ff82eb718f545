/**
 * Two server processes on one PostgreSQL database and one Redis, as behind a
 * load balancer: sessions, the per-email lockout and the per-IP limit hold
 * across instances. Needs TEST_DATABASE_URL and a Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newAccount } from "./helpers/caller.ts";
import { onPostgres, scratchPostgresUrl } from "./helpers/database.ts";
import { dataOf, expectError, mutate, query } from "./helpers/http.ts";
import { reachableRedis, redisKeyPrefix } from "./helpers/redis.ts";
import { TEST_SECRET } from "./helpers/services.ts";
import { spawnServer, type SpawnedServer } from "./helpers/production-server.ts";

const redisUrl = await reachableRedis();
const skipReason = !onPostgres
  ? " (skipped: needs PostgreSQL, set TEST_DATABASE_URL)"
  : redisUrl === null
    ? " (skipped: no Redis answers at REDIS_URL_FOR_TESTS or 127.0.0.1:6379)"
    : "";

describe.skipIf(skipReason !== "")(`two instances on one database and one Redis${skipReason}`, () => {
  let a: SpawnedServer;
  let b: SpawnedServer;
  let ipCounter = 0;

  /** A client address of its own (the instances trust X-Forwarded-For, as behind a proxy). */
  const fromNewIp = () => ({ headers: { "x-forwarded-for": `198.51.100.${++ipCounter}` } });

  beforeAll(async () => {
    const env = {
      NODE_ENV: "test",
      DATABASE_URL: await scratchPostgresUrl(),
      REDIS_URL: redisUrl!,
      REDIS_KEY_PREFIX: redisKeyPrefix(redisUrl!),
      JWT_SECRET: TEST_SECRET,
      BCRYPT_COST: "4",
      DATA_DIR: ":memory:",
      TRUST_PROXY: "true",
      AUTH_RATE_LIMIT_PER_MINUTE: "5",
      LOGIN_MAX_FAILURES: "3",
      LOGIN_LOCKOUT: "15m",
      // One key for both, as in production: a successor sealed by one opens on the other.
      ENCRYPTION_KEY: Buffer.alloc(32, 11).toString("base64"),
      REFRESH_REUSE_GRACE: "2s",
    };
    [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
  });

  afterAll(async () => {
    for (const server of [a, b]) server?.proc.kill("SIGTERM");
    expect(await Promise.all([a?.exited, b?.exited])).toEqual([0, 0]);
  });

  it("runs two processes", () => {
    expect(a.url).not.toBe(b.url);
    expect(a.proc.pid).not.toBe(b.proc.pid);
  });

  it("honours a logout on one instance on the other at once", async () => {
    const account = newAccount();
    const auth = dataOf(await mutate(a.url, "auth.register", account, fromNewIp()));
    expect(dataOf(await query(b.url, "auth.me", undefined, { token: auth.accessToken })).id).toBe(auth.user.id);
    dataOf(await mutate(a.url, "auth.logout", undefined, { token: auth.accessToken }));
    expectError(await query(b.url, "auth.me", undefined, { token: auth.accessToken }), 401, "SESSION_REVOKED");
    expectError(await mutate(b.url, "auth.refresh", { refreshToken: auth.refreshToken }, fromNewIp()), 401, "REFRESH_TOKEN_INVALID");
  });

  it("answers a replay on the other instance inside the grace window with the same successor, and detects it as reuse after", async () => {
    const auth = dataOf(await mutate(b.url, "auth.register", newAccount(), fromNewIp()));
    const rotated = dataOf(await mutate(a.url, "auth.refresh", { refreshToken: auth.refreshToken }, fromNewIp()));
    expect(dataOf(await mutate(b.url, "auth.refresh", { refreshToken: auth.refreshToken }, fromNewIp())).refreshToken).toBe(rotated.refreshToken);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expectError(await mutate(b.url, "auth.refresh", { refreshToken: auth.refreshToken }, fromNewIp()), 401, "REFRESH_TOKEN_REUSED");
    expectError(await query(a.url, "auth.me", undefined, { token: rotated.accessToken }), 401, "SESSION_REVOKED");
  });

  it("counts failed logins of one client for one email across both instances", async () => {
    const account = newAccount();
    dataOf(await mutate(a.url, "auth.register", account, fromNewIp()));
    const wrong = { email: account.email, password: "not the password at all" };
    const client = fromNewIp();
    expectError(await mutate(a.url, "auth.login", wrong, client), 401, "INVALID_CREDENTIALS");
    expectError(await mutate(b.url, "auth.login", wrong, client), 401, "INVALID_CREDENTIALS");
    expectError(await mutate(a.url, "auth.login", wrong, client), 401, "INVALID_CREDENTIALS");
    for (const server of [b, a]) {
      const locked = await mutate(server.url, "auth.login", account, client);
      expectError(locked, 429, "RATE_LIMITED");
      expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(14 * 60);
    }
  });

  it("shares the per-IP limit between both instances", async () => {
    const sameClient = fromNewIp();
    // A new email each time, so that the per-email lockout stays out of the way.
    let n = 0;
    const login = () => ({ email: `nobody${++n}@example.com`, password: "not the password at all" });
    for (const server of [a, b, a, b, a]) expectError(await mutate(server.url, "auth.login", login(), sameClient), 401, "INVALID_CREDENTIALS");
    for (const server of [b, a]) {
      const limited = await mutate(server.url, "auth.login", login(), sameClient);
      expectError(limited, 429, "RATE_LIMITED");
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    // Another client is not affected.
    expectError(await mutate(b.url, "auth.login", login(), fromNewIp()), 401, "INVALID_CREDENTIALS");
  });
});
