/**
 * Abuse limits (docs/API.md): public auth mutations per client IP,
 * failed logins per email, TRUST_PROXY, and the Redis store shared by
 * instances with its in-memory fallback.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { appRouter } from "../routers/_app.ts";
import type { Database } from "../server/db/database.ts";
import type { AppError } from "../server/errors.ts";
import type { MemoryOutbox } from "../server/mail/outbox.ts";
import { clientKey } from "../server/limits/limits.ts";
import type { Services } from "../server/services.ts";
import { callerFor, newAccount, signedIn } from "./helpers/caller.ts";
import { openTestDatabase, resetDatabase } from "./helpers/database.ts";
import { expectTRPCError } from "./helpers/errors.ts";
import { dataOf, expectError, mutate, query } from "./helpers/http.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { captureLog } from "./helpers/log.ts";
import { reachableRedis, redisClient, redisKeyPrefix } from "./helpers/redis.ts";
import { testServices } from "./helpers/services.ts";
import { startTcpProxy } from "./helpers/tcp-proxy.ts";

const redisUrl = await reachableRedis();

let db: Database;

beforeAll(async () => {
  db = await openTestDatabase();
});

beforeEach(async () => {
  await resetDatabase(db);
});

const WRONG = "definitely not the password";

/** Services with low limits; closed after the file. */
async function limited(env: Record<string, string>): Promise<Services> {
  const services = await testServices(db, { env });
  afterAll(() => services.close());
  return services;
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The public mutations of docs/API.md that this build has, each with an input that passes validation. */
function publicMutationCalls(caller: ReturnType<typeof callerFor>) {
  const token = `${crypto.randomUUID()}.${"A".repeat(43)}`;
  const all: Record<string, () => Promise<unknown>> = {
    register: () => caller.auth.register(newAccount()),
    login: () => caller.auth.login({ email: "nobody@example.com", password: WRONG }),
    refresh: () => caller.auth.refresh({ refreshToken: token }),
    requestPasswordReset: () => (caller.auth as any).requestPasswordReset({ email: "nobody@example.com" }),
    resetPassword: () => (caller.auth as any).resetPassword({ token, newPassword: "a brand new passphrase" }),
    verifyEmail: () => (caller.auth as any).verifyEmail({ token }),
  };
  const procedures = appRouter._def.procedures as Record<string, unknown>;
  return Object.entries(all).filter(([name]) => `auth.${name}` in procedures);
}

describe("per-IP limit on public auth mutations", () => {
  it("refuses the call after AUTH_RATE_LIMIT_PER_MINUTE with RATE_LIMITED and a retry delay", async () => {
    const services = await limited({ AUTH_RATE_LIMIT_PER_MINUTE: "3" });
    const caller = callerFor(services, { ip: "198.51.100.1" });
    for (let i = 0; i < 3; i++) {
      await expectTRPCError(caller.auth.login({ email: "a@example.com", password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    }
    const error = (await expectTRPCError(
      caller.auth.login({ email: "a@example.com", password: WRONG }),
      "TOO_MANY_REQUESTS",
      "RATE_LIMITED",
    )) as AppError;
    expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    expect(error.retryAfter).toBeLessThanOrEqual(60);
  });

  it("counts every public mutation (register, login, refresh, reset, verify) and refuses each past the limit", async () => {
    const probe = publicMutationCalls(callerFor(await limited({})));
    const services = await limited({ AUTH_RATE_LIMIT_PER_MINUTE: String(probe.length) });
    const calls = publicMutationCalls(callerFor(services, { ip: "198.51.100.2" }));
    for (const [name, call] of calls) {
      const outcome = await call().then(
        () => "ok",
        (e: AppError) => e.appCode,
      );
      expect(outcome, name).not.toBe("RATE_LIMITED");
    }
    for (const [, call] of calls) await expectTRPCError(call(), "TOO_MANY_REQUESTS", "RATE_LIMITED");
    expect(await db.prisma.user.count()).toBe(1);
  });

  it("counts invalid calls too, before their input is parsed", async () => {
    const services = await limited({ AUTH_RATE_LIMIT_PER_MINUTE: "2" });
    const caller = callerFor(services, { ip: "198.51.100.3" });
    for (let i = 0; i < 2; i++) {
      await expectTRPCError(caller.auth.login({ email: "not-an-email", password: "" }), "BAD_REQUEST", "VALIDATION_FAILED");
    }
    await expectTRPCError(caller.auth.login({ email: "not-an-email", password: "" }), "TOO_MANY_REQUESTS", "RATE_LIMITED");
  });

  it("does not count queries or bearer-protected mutations", async () => {
    const services = await limited({ AUTH_RATE_LIMIT_PER_MINUTE: "2" });
    const caller = callerFor(services, { ip: "198.51.100.4" });
    const { accessToken } = await caller.auth.register(newAccount());
    const authed = callerFor(services, { ip: "198.51.100.4", token: accessToken });
    for (let i = 0; i < 5; i++) {
      await caller.health();
      await authed.auth.me();
      await authed.auth.sessions();
    }
    for (let i = 0; i < 3; i++) {
      await expectTRPCError(authed.auth.revokeSession({ sessionId: crypto.randomUUID() }), "NOT_FOUND", "NOT_FOUND");
    }
    // One public mutation (register) spent; one left.
    await expectTRPCError(caller.auth.login({ email: "x@example.com", password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    await expectTRPCError(caller.auth.login({ email: "x@example.com", password: WRONG }), "TOO_MANY_REQUESTS", "RATE_LIMITED");
  });

  it("keeps one bucket per client IP", async () => {
    const services = await limited({ AUTH_RATE_LIMIT_PER_MINUTE: "1" });
    await expectTRPCError(callerFor(services, { ip: "198.51.100.5" }).auth.login({ email: "a@example.com", password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    await expectTRPCError(callerFor(services, { ip: "198.51.100.5" }).auth.login({ email: "a@example.com", password: WRONG }), "TOO_MANY_REQUESTS", "RATE_LIMITED");
    await expectTRPCError(callerFor(services, { ip: "198.51.100.6" }).auth.login({ email: "a@example.com", password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
  });

  it("counts an IPv6 client by its /64, so rotating addresses does not help", () => {
    expect(clientKey("2001:db8:1:2::1")).toBe(clientKey("2001:0db8:0001:0002:ffff:eeee:dddd:cccc"));
    expect(clientKey("2001:db8:1:2::1")).not.toBe(clientKey("2001:db8:1:3::1"));
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
    expect(clientKey("203.0.113.9")).toBe("203.0.113.9");
    expect(clientKey(null)).toBe("unknown");
  });
});

describe("per-IP limit over HTTP", () => {
  let base: string;

  beforeAll(async () => {
    base = (await startTestServer(await limited({ AUTH_RATE_LIMIT_PER_MINUTE: "3" }))).url;
  });

  it("answers 429 RATE_LIMITED with Retry-After in seconds, counting each call of a batch", async () => {
    const input = { json: { email: "batch@example.com", password: WRONG } };
    const res = await fetch(`${base}/trpc/${Array(5).fill("auth.login").join(",")}?batch=1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(Object.fromEntries([0, 1, 2, 3, 4].map((i) => [i, input]))),
    });
    const results = (await res.json()) as any[];
    expect(results.map((r) => r.error.json.data.appCode)).toEqual([
      "INVALID_CREDENTIALS",
      "INVALID_CREDENTIALS",
      "INVALID_CREDENTIALS",
      "RATE_LIMITED",
      "RATE_LIMITED",
    ]);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

    const single = await mutate(base, "auth.login", { email: "batch@example.com", password: WRONG });
    const error = expectError(single, 429, "RATE_LIMITED");
    expect(error.data.code).toBe("TOO_MANY_REQUESTS");
    const retryAfter = Number(single.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
  });

  it("ignores X-Forwarded-For without TRUST_PROXY: a client cannot pick its own bucket", async () => {
    // The previous test spent this server's limit for 127.0.0.1.
    for (const forwarded of ["203.0.113.10", "203.0.113.11", "198.51.100.200"]) {
      const res = await mutate(base, "auth.login", { email: "xff@example.com", password: WRONG }, { headers: { "x-forwarded-for": forwarded } });
      expectError(res, 429, "RATE_LIMITED");
    }
  });
});

describe("TRUST_PROXY=1 (one proxy in front)", () => {
  let base: string;

  beforeAll(async () => {
    base = (await startTestServer(await limited({ AUTH_RATE_LIMIT_PER_MINUTE: "2", TRUST_PROXY: "1" }))).url;
  });

  it("takes the client IP from the rightmost X-Forwarded-For entry (the one our proxy appended), for limits and sessions", async () => {
    // The client sent "198.51.100.7"; our proxy appended the address it saw.
    const viaProxy = { headers: { "x-forwarded-for": "198.51.100.7, 203.0.113.20" } };
    const { accessToken } = dataOf(await mutate(base, "auth.register", newAccount(), viaProxy));
    const sessions = dataOf(await query(base, "auth.sessions", undefined, { token: accessToken }));
    expect(sessions[0].ip).toBe("203.0.113.20");
    expectError(await mutate(base, "auth.login", { email: "p@example.com", password: WRONG }, viaProxy), 401, "INVALID_CREDENTIALS");
    expectError(await mutate(base, "auth.login", { email: "p@example.com", password: WRONG }, viaProxy), 429, "RATE_LIMITED");
    // Changing what the client prepends changes nothing.
    const spoofed = { headers: { "x-forwarded-for": "192.0.2.99, 203.0.113.20" } };
    expectError(await mutate(base, "auth.login", { email: "p@example.com", password: WRONG }, spoofed), 429, "RATE_LIMITED");
    // Another client behind the same proxy has its own bucket.
    const other = { headers: { "x-forwarded-for": "203.0.113.21" } };
    expectError(await mutate(base, "auth.login", { email: "p@example.com", password: WRONG }, other), 401, "INVALID_CREDENTIALS");
  });

  it("falls back to the socket address when X-Forwarded-For is not an IP", async () => {
    const { accessToken } = dataOf(
      await mutate(base, "auth.register", newAccount(), { headers: { "x-forwarded-for": "not-an-ip" } }),
    );
    const sessions = dataOf(await query(base, "auth.sessions", undefined, { token: accessToken }));
    expect(sessions[0].ip).toBe("127.0.0.1");
  });
});

describe("per-email lockout", () => {
  it("locks an email for the client address after LOGIN_MAX_FAILURES wrong passwords; then even the right password from there gets RATE_LIMITED", async () => {
    const services = await limited({ LOGIN_MAX_FAILURES: "3", LOGIN_LOCKOUT: "15m" });
    const account = newAccount();
    await callerFor(services).auth.register(account);
    const caller = callerFor(services);
    for (let i = 0; i < 3; i++) {
      await expectTRPCError(caller.auth.login({ email: account.email, password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    }
    const error = (await expectTRPCError(caller.auth.login(account), "TOO_MANY_REQUESTS", "RATE_LIMITED")) as AppError;
    expect(error.retryAfter).toBeGreaterThan(15 * 60 - 5);
    expect(error.retryAfter).toBeLessThanOrEqual(15 * 60);
    // An IPv4 neighbour is another bucket: the attacker's failures do not lock the owner out.
    expect(signedIn(await callerFor(services, { ip: "192.0.2.50" }).auth.login(account)).user.email).toBe(account.email);
  });

  it("regression (lock-out abuse): wrong passwords from one address do not lock the owner out at another address", async () => {
    const services = await limited({ LOGIN_MAX_FAILURES: "3" });
    const account = newAccount();
    await callerFor(services).auth.register(account);
    const attacker = callerFor(services, { ip: "203.0.113.66" });
    for (let i = 0; i < 3; i++) {
      await expectTRPCError(attacker.auth.login({ email: account.email, password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    }
    for (let i = 0; i < 5; i++) await expectTRPCError(attacker.auth.login(account), "TOO_MANY_REQUESTS", "RATE_LIMITED");
    expect(signedIn(await callerFor(services, { ip: "198.51.100.77" }).auth.login(account)).user.email).toBe(account.email);
  });

  it("regression (lock-out abuse): failures from many addresses lock the email for everyone at LOGIN_EMAIL_MAX_FAILURES", async () => {
    const services = await limited({ LOGIN_MAX_FAILURES: "2", LOGIN_EMAIL_MAX_FAILURES: "5" });
    const account = newAccount();
    await callerFor(services).auth.register(account);
    for (let i = 0; i < 5; i++) {
      await expectTRPCError(
        callerFor(services, { ip: `203.0.113.${100 + i}` }).auth.login({ email: account.email, password: WRONG }),
        "UNAUTHORIZED",
        "INVALID_CREDENTIALS",
      );
    }
    const error = (await expectTRPCError(callerFor(services, { ip: "198.51.100.78" }).auth.login(account), "TOO_MANY_REQUESTS", "RATE_LIMITED")) as AppError;
    expect(error.retryAfter).toBeGreaterThan(15 * 60 - 5);
  });

  it("regression (reset does not unlock): a successful password reset clears the email's lockout", async () => {
    const services = await limited({ LOGIN_MAX_FAILURES: "2", LOGIN_EMAIL_MAX_FAILURES: "3" });
    const account = newAccount();
    await callerFor(services).auth.register(account);
    // Locked both ways: from the owner's own address, and for everyone by the ceiling.
    for (const ip of ["192.0.2.60", "192.0.2.60", "203.0.113.61"]) {
      await expectTRPCError(callerFor(services, { ip }).auth.login({ email: account.email, password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    }
    const owner = callerFor(services, { ip: "192.0.2.60" });
    await expectTRPCError(owner.auth.login(account), "TOO_MANY_REQUESTS", "RATE_LIMITED");
    await expectTRPCError(callerFor(services, { ip: "198.51.100.79" }).auth.login(account), "TOO_MANY_REQUESTS", "RATE_LIMITED");

    await owner.auth.requestPasswordReset({ email: account.email });
    await services.background.drain();
    const outbox = services.mailer as MemoryOutbox;
    const link = outbox.messages.filter((m) => m.to === account.email).at(-1)!.link;
    const newPassword = "a fresh passphrase after the reset";
    await owner.auth.resetPassword({ token: new URL(link).searchParams.get("token")!, newPassword });

    expect(signedIn(await owner.auth.login({ email: account.email, password: newPassword })).user.email).toBe(account.email);
    expect(signedIn(await callerFor(services, { ip: "198.51.100.79" }).auth.login({ email: account.email, password: newPassword })).user.email).toBe(account.email);
  });

  it("locks an unknown email exactly like a known one, so the lock reveals nothing", async () => {
    const services = await limited({ LOGIN_MAX_FAILURES: "2" });
    const account = newAccount();
    await callerFor(services).auth.register(account);
    const caller = callerFor(services);
    const outcomes = async (email: string) => {
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) {
        const e = (await caller.auth.login({ email, password: WRONG }).catch((x: unknown) => x)) as AppError;
        seen.push(`${e.code}/${e.appCode}/${e.message}`);
      }
      return seen;
    };
    const known = await outcomes(account.email);
    const unknown = await outcomes("nobody-here@example.com");
    expect(unknown).toEqual(known);
    expect(known.slice(2)).toEqual(Array(2).fill("TOO_MANY_REQUESTS/RATE_LIMITED/Too many requests, try again later"));
  });

  it("forgets the failures after a successful login", async () => {
    const services = await limited({ LOGIN_MAX_FAILURES: "3" });
    const account = newAccount();
    await callerFor(services).auth.register(account);
    const caller = callerFor(services);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) {
        await expectTRPCError(caller.auth.login({ email: account.email, password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
      }
      expect(signedIn(await caller.auth.login(account)).user.email).toBe(account.email);
    }
  });

  it("counts case and whitespace variants of an email as one", async () => {
    const services = await limited({ LOGIN_MAX_FAILURES: "3" });
    const account = newAccount({ email: "casey@example.com" });
    await callerFor(services).auth.register(account);
    const caller = callerFor(services);
    for (const email of ["Casey@Example.com", "  casey@example.com ", "CASEY@EXAMPLE.COM"]) {
      await expectTRPCError(caller.auth.login({ email, password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    }
    await expectTRPCError(caller.auth.login(account), "TOO_MANY_REQUESTS", "RATE_LIMITED");
  });

  it("locks only the email under attack", async () => {
    const services = await limited({ LOGIN_MAX_FAILURES: "2" });
    const victim = newAccount();
    const bystander = newAccount();
    await callerFor(services).auth.register(victim);
    await callerFor(services).auth.register(bystander);
    const caller = callerFor(services);
    for (let i = 0; i < 2; i++) {
      await expectTRPCError(caller.auth.login({ email: victim.email, password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    }
    await expectTRPCError(caller.auth.login(victim), "TOO_MANY_REQUESTS", "RATE_LIMITED");
    expect(signedIn(await caller.auth.login(bystander)).user.email).toBe(bystander.email);
  });

  it("counts wrong current passwords on changePassword and deleteAccount, so a stolen token cannot guess", async () => {
    const services = await limited({ LOGIN_MAX_FAILURES: "3" });
    const account = newAccount();
    const { accessToken } = await callerFor(services).auth.register(account);
    const thief = callerFor(services, { token: accessToken });
    await expectTRPCError(thief.auth.changePassword({ currentPassword: WRONG, newPassword: "a brand new passphrase" }), "FORBIDDEN", "CURRENT_PASSWORD_INVALID");
    await expectTRPCError(thief.auth.deleteAccount({ password: WRONG }), "FORBIDDEN", "CURRENT_PASSWORD_INVALID");
    await expectTRPCError(thief.auth.deleteAccount({ password: WRONG }), "FORBIDDEN", "CURRENT_PASSWORD_INVALID");
    // Locked now: the right password is refused on every path, and nothing changed.
    await expectTRPCError(thief.auth.deleteAccount({ password: account.password }), "TOO_MANY_REQUESTS", "RATE_LIMITED");
    await expectTRPCError(
      thief.auth.changePassword({ currentPassword: account.password, newPassword: "a brand new passphrase" }),
      "TOO_MANY_REQUESTS",
      "RATE_LIMITED",
    );
    await expectTRPCError(callerFor(services).auth.login(account), "TOO_MANY_REQUESTS", "RATE_LIMITED");
    expect(await db.prisma.user.count({ where: { email: account.email } })).toBe(1);
  });

  it("unlocks by itself after LOGIN_LOCKOUT", async () => {
    const services = await limited({ LOGIN_MAX_FAILURES: "2", LOGIN_LOCKOUT: "1s" });
    const account = newAccount();
    await callerFor(services).auth.register(account);
    const caller = callerFor(services);
    for (let i = 0; i < 2; i++) {
      await expectTRPCError(caller.auth.login({ email: account.email, password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    }
    await expectTRPCError(caller.auth.login(account), "TOO_MANY_REQUESTS", "RATE_LIMITED");
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(signedIn(await caller.auth.login(account)).user.email).toBe(account.email);
  });

  it("answers a locked login over HTTP with 429 and Retry-After", async () => {
    const services = await limited({ LOGIN_MAX_FAILURES: "1", LOGIN_LOCKOUT: "2m" });
    const { url } = await startTestServer(services);
    const account = newAccount();
    dataOf(await mutate(url, "auth.register", account));
    expectError(await mutate(url, "auth.login", { email: account.email, password: WRONG }), 401, "INVALID_CREDENTIALS");
    const locked = await mutate(url, "auth.login", account);
    expectError(locked, 429, "RATE_LIMITED");
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(100);
    expect(Number(locked.headers.get("retry-after"))).toBeLessThanOrEqual(120);
  });
});

describe.skipIf(redisUrl === null)(`with REDIS_URL${redisUrl === null ? " (skipped: no Redis answers at REDIS_URL_FOR_TESTS or 127.0.0.1:6379)" : ""}`, () => {
  const url = redisUrl!;
  let prefix: string;

  beforeAll(() => {
    prefix = redisKeyPrefix(url);
  });

  it("shares the IP limit and the lockout between two instances", async () => {
    const env = { REDIS_URL: url, REDIS_KEY_PREFIX: prefix, AUTH_RATE_LIMIT_PER_MINUTE: "4", LOGIN_MAX_FAILURES: "3" };
    const a = await limited(env);
    const b = await limited(env);
    expect([a.limits.store(), b.limits.store()]).toEqual(["redis", "redis"]);

    const account = newAccount();
    await callerFor(a, { ip: "192.0.2.1" }).auth.register(account);
    await expectTRPCError(callerFor(b, { ip: "192.0.2.1" }).auth.login({ email: "s@example.com", password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    await expectTRPCError(callerFor(a, { ip: "192.0.2.1" }).auth.login({ email: "s@example.com", password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    await expectTRPCError(callerFor(b, { ip: "192.0.2.1" }).auth.login({ email: "s@example.com", password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    await expectTRPCError(callerFor(a, { ip: "192.0.2.1" }).auth.login(account), "TOO_MANY_REQUESTS", "RATE_LIMITED");

    // Lockout: failures of one client on both instances add up.
    await expectTRPCError(callerFor(a, { ip: "192.0.2.2" }).auth.login({ email: account.email, password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    await expectTRPCError(callerFor(b, { ip: "192.0.2.2" }).auth.login({ email: account.email, password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    await expectTRPCError(callerFor(a, { ip: "192.0.2.2" }).auth.login({ email: account.email, password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    await expectTRPCError(callerFor(b, { ip: "192.0.2.2" }).auth.login(account), "TOO_MANY_REQUESTS", "RATE_LIMITED");

    // The counters are Redis keys under the configured prefix, and emails are not in them.
    const keys = await redisClient(url).keys(`${prefix}*`);
    expect(keys.some((k) => k.startsWith(`${prefix}ip:`))).toBe(true);
    expect(keys.some((k) => k.startsWith(`${prefix}login:`))).toBe(true);
    expect(keys.join(" ")).not.toContain("@");
  });

  it("keeps answering with in-memory limits while Redis is unreachable, logs it, and returns to Redis", async () => {
    const target = new URL(url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    afterAll(() => proxy.close());
    const proxied = new URL(url);
    proxied.hostname = "127.0.0.1";
    proxied.port = String(proxy.port);
    const captured = captureLog("info");
    const services = await testServices(db, {
      env: { REDIS_URL: proxied.toString(), REDIS_KEY_PREFIX: prefix, AUTH_RATE_LIMIT_PER_MINUTE: "3" },
      log: captured.log,
    });
    afterAll(() => services.close());
    const redis = redisClient(url);
    const ipKey = `${prefix}ip:192.0.2.77`;
    const login = () => callerFor(services, { ip: "192.0.2.77" }).auth.login({ email: "r@example.com", password: WRONG });

    expect(services.limits.store()).toBe("redis");
    await expectTRPCError(login(), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    expect(await redis.get(ipKey)).toBe("1");

    await proxy.stop();
    await until(() => services.limits.store() === "memory-fallback");
    // No 500s: this process's own count takes over, and still holds the call made before the outage.
    for (let i = 0; i < 2; i++) await expectTRPCError(login(), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    await expectTRPCError(login(), "TOO_MANY_REQUESTS", "RATE_LIMITED");
    expect(captured.lines().some((l) => l.level === 40 && /redis (unavailable|connection lost)/.test(String(l.msg)))).toBe(true);
    expect(await redis.get(ipKey)).toBe("1");

    await proxy.start();
    await until(() => services.limits.store() === "redis");
    expect(captured.lines().some((l) => /redis available again/.test(String(l.msg)))).toBe(true);
    // Back on Redis: Redis decides again, going on from where it had the count.
    await expectTRPCError(login(), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    expect(await redis.get(ipKey)).toBe("2");
    // Nothing in the log names the Redis URL.
    expect(JSON.stringify(captured.lines())).not.toContain(proxied.toString());
  });

  it("starts and serves with in-memory limits when Redis is down at start-up", async () => {
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: 1 });
    const port = proxy.port;
    await proxy.close();
    const started = Date.now();
    const services = await limited({ REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_KEY_PREFIX: prefix, AUTH_RATE_LIMIT_PER_MINUTE: "1" });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(services.limits.store()).toBe("memory-fallback");
    const caller = callerFor(services, { ip: "192.0.2.88" });
    await expectTRPCError(caller.auth.login({ email: "d@example.com", password: WRONG }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    await expectTRPCError(caller.auth.login({ email: "d@example.com", password: WRONG }), "TOO_MANY_REQUESTS", "RATE_LIMITED");
  });
});
