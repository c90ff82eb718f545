/**
 * The lockout and the per-IP limit are reservations (server/limits/reservations.ts):
 * requests arriving at once (separate connections, `?batch=1` batches, two
 * instances sharing Redis, Redis going away mid-run) never get more password
 * verifications than LOGIN_MAX_FAILURES, nor more calls than
 * AUTH_RATE_LIMIT_PER_MINUTE. Verifications are counted by a hook on the real
 * hasher, passed in through the services options.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../server/db/database.ts";
import type { Services } from "../server/services.ts";
import { callerFor, newAccount } from "./helpers/caller.ts";
import { appCodesOf, postOnOwnConnection, tally, type RawAnswer } from "./helpers/connections.ts";
import { openTestDatabase, resetDatabase } from "./helpers/database.ts";
import { expectTRPCError } from "./helpers/errors.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { reachableRedisOrFailInCi, redisKeyPrefix } from "./helpers/redis.ts";
import { testServices } from "./helpers/services.ts";
import { startTcpProxy } from "./helpers/tcp-proxy.ts";

const redisUrl = await reachableRedisOrFailInCi();
const WRONG = "definitely not the password";
const PARALLEL = 40;

let db: Database;

beforeAll(async () => {
  db = await openTestDatabase();
});

beforeEach(async () => {
  await resetDatabase(db);
});

/** An instance with a verification counter and its HTTP server; closed after the file. */
async function instance(env: Record<string, string>): Promise<{ services: Services; url: string; verifications: () => number }> {
  let verifications = 0;
  const services = await testServices(db, { env, onPasswordVerify: () => verifications++ });
  afterAll(() => services.close());
  const { url } = await startTestServer(services);
  return { services, url, verifications: () => verifications };
}

const loginBody = (email: string, password = WRONG) => ({ json: { email, password } });

/** `count` single logins, each on its own connection, all sent at once. */
function parallelLogins(urls: string[], email: string, count: number): Promise<RawAnswer[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => postOnOwnConnection(`${urls[i % urls.length]}/trpc/auth.login`, loginBody(email))),
  );
}

/** `count / size` batches of `size` logins, all sent at once. */
function parallelBatches(urls: string[], email: string, count: number, size: number): Promise<RawAnswer[]> {
  const path = Array(size).fill("auth.login").join(",");
  const body = Object.fromEntries(Array.from({ length: size }, (_, i) => [i, loginBody(email)]));
  return Promise.all(
    Array.from({ length: count / size }, (_, i) => postOnOwnConnection(`${urls[i % urls.length]}/trpc/${path}?batch=1`, body)),
  );
}

/** Every answer with a refusal is a 429 (a 207 for a batch that also holds other outcomes) with a Retry-After of at least one second. */
function expectRetryAfterOnRefusals(answers: RawAnswer[]): void {
  const refused = answers.filter((a) => appCodesOf(a).includes("RATE_LIMITED"));
  expect(refused.length).toBeGreaterThan(0);
  for (const a of refused) {
    expect(a.status).toBe(appCodesOf(a).every((code) => code === "RATE_LIMITED") ? 429 : 207);
    expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
  }
}

describe("lockout reservation on one instance", () => {
  it.each(["a known email", "an unknown email"])(
    "gives 40 wrong passwords for %s sent at once on separate connections exactly LOGIN_MAX_FAILURES verifications; the rest RATE_LIMITED with Retry-After",
    async (which) => {
      const node = await instance({ LOGIN_MAX_FAILURES: "3" });
      const account = newAccount();
      await callerFor(node.services).auth.register(account);
      const email = which === "a known email" ? account.email : "nobody-at-all@example.com";
      const answers = await parallelLogins([node.url], email, PARALLEL);
      expect(tally(answers.flatMap(appCodesOf))).toEqual({ INVALID_CREDENTIALS: 3, RATE_LIMITED: PARALLEL - 3 });
      expect(node.verifications()).toBe(3);
      expectRetryAfterOnRefusals(answers);
      // Locked now, for the right password too.
      await expectTRPCError(callerFor(node.services).auth.login(account.email === email ? account : { email, password: account.password }), "TOO_MANY_REQUESTS", "RATE_LIMITED");
      expect(node.verifications()).toBe(3);
    },
  );

  it("gives 40 wrong passwords in eight ?batch=1 batches of five sent at once exactly LOGIN_MAX_FAILURES verifications", async () => {
    const node = await instance({ LOGIN_MAX_FAILURES: "3" });
    const account = newAccount();
    await callerFor(node.services).auth.register(account);
    const answers = await parallelBatches([node.url], account.email, PARALLEL, 5);
    expect(tally(answers.flatMap(appCodesOf))).toEqual({ INVALID_CREDENTIALS: 3, RATE_LIMITED: PARALLEL - 3 });
    expect(node.verifications()).toBe(3);
    expectRetryAfterOnRefusals(answers);
  });

  it("gives parallel wrong current passwords on changePassword and deleteAccount at most LOGIN_MAX_FAILURES verifications", async () => {
    const node = await instance({ LOGIN_MAX_FAILURES: "3" });
    const account = newAccount();
    const { accessToken } = await callerFor(node.services).auth.register(account);
    const thief = callerFor(node.services, { token: accessToken });
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0
          ? thief.auth.changePassword({ currentPassword: WRONG, newPassword: "a brand new passphrase" })
          : thief.auth.deleteAccount({ password: WRONG })
        ).then(
          () => "OK",
          (e: { appCode?: string }) => String(e.appCode),
        ),
      ),
    );
    expect(tally(outcomes)).toEqual({ CURRENT_PASSWORD_INVALID: 3, RATE_LIMITED: 17 });
    expect(node.verifications()).toBe(3);
    expect(await db.prisma.user.count()).toBe(1);
  });

  it("lets 20 parallel logins with the right password from one address all through: refused calls wait for the running checks and retry", async () => {
    const node = await instance({ LOGIN_MAX_FAILURES: "3" });
    const account = newAccount();
    await callerFor(node.services).auth.register(account);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => postOnOwnConnection(`${node.url}/trpc/auth.login`, loginBody(account.email, account.password))),
    );
    expect(tally(answers.flatMap(appCodesOf))).toEqual({ OK: 20 });
    expect(node.verifications()).toBe(20);
  });

  it("gives the point back when the check throws instead of answering (nothing was verified)", async () => {
    const node = await instance({ LOGIN_MAX_FAILURES: "2" });
    const lockout = node.services.limits.loginLockout;
    for (let i = 0; i < 5; i++) {
      await expect(lockout.guard("thrown@example.com", () => Promise.reject(new Error("hasher down")), { ip: "192.0.2.9" })).rejects.toThrow("hasher down");
    }
    expect(await lockout.guard("thrown@example.com", async () => false, { ip: "192.0.2.9" })).toBe(false);
    expect(await lockout.guard("thrown@example.com", async () => false, { ip: "192.0.2.9" })).toBe(false);
    await expectTRPCError(lockout.guard("thrown@example.com", async () => true, { ip: "192.0.2.9" }), "TOO_MANY_REQUESTS", "RATE_LIMITED");
  });
});

describe("per-IP limit reservation", () => {
  it("lets exactly AUTH_RATE_LIMIT_PER_MINUTE of 40 public mutations from one IP sent at once through", async () => {
    const node = await instance({ AUTH_RATE_LIMIT_PER_MINUTE: "5" });
    // A different unknown email each time, so that only the per-IP limit is in play.
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) => postOnOwnConnection(`${node.url}/trpc/auth.login`, loginBody(`ip${i}@example.com`))),
    );
    expect(tally(answers.flatMap(appCodesOf))).toEqual({ INVALID_CREDENTIALS: 5, RATE_LIMITED: PARALLEL - 5 });
    expect(node.verifications()).toBe(5);
    expectRetryAfterOnRefusals(answers);
  });
});

describe.skipIf(redisUrl === null)(`two instances sharing Redis${redisUrl === null ? " (skipped: no Redis answers)" : ""}`, () => {
  const url = redisUrl!;

  async function pair(env: Record<string, string>) {
    const shared = { REDIS_URL: url, REDIS_KEY_PREFIX: redisKeyPrefix(url), ...env };
    const a = await instance(shared);
    const b = await instance(shared);
    expect([a.services.limits.store(), b.services.limits.store()]).toEqual(["redis", "redis"]);
    return { a, b, verifications: () => a.verifications() + b.verifications() };
  }

  it("gives 40 wrong passwords split over both instances, as connections and as batches, LOGIN_MAX_FAILURES verifications in total", async () => {
    const { a, b, verifications } = await pair({ LOGIN_MAX_FAILURES: "4" });
    const account = newAccount();
    await callerFor(a.services).auth.register(account);
    const answers = [
      ...(await Promise.all([parallelLogins([a.url, b.url], account.email, 20), parallelBatches([b.url, a.url], account.email, 20, 5)])).flat(),
    ];
    expect(tally(answers.flatMap(appCodesOf))).toEqual({ INVALID_CREDENTIALS: 4, RATE_LIMITED: PARALLEL - 4 });
    expect(verifications()).toBe(4);
    expectRetryAfterOnRefusals(answers);
  });

  it("lets exactly AUTH_RATE_LIMIT_PER_MINUTE of 40 public mutations from one IP through, split over both instances", async () => {
    const { a, b } = await pair({ AUTH_RATE_LIMIT_PER_MINUTE: "6" });
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) => postOnOwnConnection(`${[a, b][i % 2]!.url}/trpc/auth.login`, loginBody(`ip${i}@example.com`))),
    );
    expect(tally(answers.flatMap(appCodesOf))).toEqual({ INVALID_CREDENTIALS: 6, RATE_LIMITED: PARALLEL - 6 });
  });

  it("keeps each instance's reservations honest when Redis goes away mid-run: earlier failures still count", async () => {
    const target = new URL(url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    afterAll(() => proxy.close());
    const proxied = new URL(url);
    proxied.hostname = "127.0.0.1";
    proxied.port = String(proxy.port);
    const env = { REDIS_URL: proxied.toString(), REDIS_KEY_PREFIX: redisKeyPrefix(url), LOGIN_MAX_FAILURES: "4", AUTH_RATE_LIMIT_PER_MINUTE: "30" };
    const a = await instance(env);
    const b = await instance(env);
    const account = newAccount();
    await callerFor(a.services).auth.register(account);

    // Three failures through A while Redis is there (LOGIN_MAX_FAILURES is 4).
    expect(tally((await parallelLogins([a.url], account.email, 3)).flatMap(appCodesOf))).toEqual({ INVALID_CREDENTIALS: 3 });

    await proxy.stop();
    const deadline = Date.now() + 5_000;
    while (a.services.limits.store() !== "memory-fallback" || b.services.limits.store() !== "memory-fallback") {
      if (Date.now() > deadline) throw new Error("the instances did not notice that Redis went away");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const before = a.verifications();
    const onA = await parallelLogins([a.url], account.email, 20);
    // A remembers its own three: one verification left, not a fresh four.
    expect(tally(onA.flatMap(appCodesOf))).toEqual({ INVALID_CREDENTIALS: 1, RATE_LIMITED: 19 });
    expect(a.verifications() - before).toBe(1);
    // B never saw those failures; alone it still stops at its own four.
    const onB = await parallelLogins([b.url], account.email, 20);
    expect(tally(onB.flatMap(appCodesOf))).toEqual({ INVALID_CREDENTIALS: 4, RATE_LIMITED: 16 });
    expect(b.verifications()).toBe(4);
    // The per-IP limit on A also kept counting: 24 of its 30 calls (a register, 3 + 20 logins) were spent before and during the outage.
    const ipCalls = await Promise.all(
      Array.from({ length: 20 }, (_, i) => postOnOwnConnection(`${a.url}/trpc/auth.login`, loginBody(`outage${i}@example.com`))),
    );
    expect(tally(ipCalls.flatMap(appCodesOf))).toEqual({ INVALID_CREDENTIALS: 6, RATE_LIMITED: 14 });
  });
});
