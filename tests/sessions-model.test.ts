/**
 * A model-based property test (fast-check) of sessions and the lockout:
 * random interleavings of login, wrong login, bursts of parallel wrong
 * logins, refresh, replay, logout, change-password and the clock moving on,
 * across two server instances (their own services and limits) sharing one
 * database and one Redis. A small model predicts every answer, and after
 * every step these invariants are checked against the real database:
 *
 * - at most one live chain per session (one unused, unexpired refresh token);
 * - no access after revocation: every access token of a revoked session is
 *   refused, and the model and the database agree on which sessions live;
 * - no more password verifications than the lockout allows (counted by a
 *   hook on the real hasher), exactly as many as the model allows.
 *
 * The run is bounded (runs x commands below) and its seed is printed; rerun
 * one with FC_SEED=<seed>. Runs on PGlite and, with TEST_DATABASE_URL, on
 * PostgreSQL; needs Redis (a failure under CI=true when missing).
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "../routers/_app.ts";
import type { Database } from "../server/db/database.ts";
import type { Services } from "../server/services.ts";
import { callerFor } from "./helpers/caller.ts";
import { openTestDatabase, resetDatabase } from "./helpers/database.ts";
import { reachableRedisOrFailInCi, redisKeyPrefix } from "./helpers/redis.ts";
import { TestClock, testServices } from "./helpers/services.ts";

const redisUrl = await reachableRedisOrFailInCi();

const MAX_FAILURES = 3;
const EMAIL_MAX_FAILURES = 5;
const GRACE_SECONDS = 10;
const RUNS = 12;
const MAX_COMMANDS = 30;
const IPS = ["192.0.2.10", "198.51.100.20"] as const;
const EMAILS = ["model-a@example.com", "model-b@example.com", "model-ghost@example.com"] as const;
const GHOST = 2;
const WRONG = "a wrong password for the model";

interface ModelSession {
  user: number;
  refreshTokens: string[];
  /** When each refresh token but the newest was rotated (test clock, ms). */
  rotatedAt: number[];
  accessTokens: string[];
  revoked: boolean;
}

interface Model {
  passwords: (string | null)[];
  sessions: ModelSession[];
  /** Failures per `${email}|${ip}` since the last success from there. */
  clientFailures: Map<string, number>;
  /** Failures per email (the ceiling). */
  emailFailures: number[];
  /** Verifications the lockout let through. */
  verifications: number;
  now: () => number;
  passwordSerial: number;
}

interface Real {
  instances: [Services, Services];
  clock: TestClock;
  verifications: () => number;
}

type Outcome = string;

async function outcome(call: Promise<unknown>): Promise<Outcome> {
  try {
    await call;
    return "OK";
  } catch (error) {
    return String((error as { appCode?: string }).appCode ?? (error as Error).message);
  }
}

/** Whether the model lets a secret check for this email from this address through, and books it. */
function reserve(m: Model, user: number, ip: string): boolean {
  const key = `${user}|${ip}`;
  const client = m.clientFailures.get(key) ?? 0;
  if (client >= MAX_FAILURES || m.emailFailures[user]! >= EMAIL_MAX_FAILURES) return false;
  m.verifications++;
  return true;
}

function fail(m: Model, user: number, ip: string): void {
  const key = `${user}|${ip}`;
  m.clientFailures.set(key, (m.clientFailures.get(key) ?? 0) + 1);
  m.emailFailures[user]!++;
}

function succeed(m: Model, user: number, ip: string): void {
  m.clientFailures.set(`${user}|${ip}`, 0);
}

const node = (r: Real, on: number): Services => r.instances[on % 2 === 0 ? 0 : 1];
const email = (user: number): string => EMAILS[user]!;

const liveSessions = (m: Readonly<Model>) => m.sessions.filter((s) => !s.revoked);

type Cmd = fc.AsyncCommand<Model, Real>;

function command(name: string, check: (m: Readonly<Model>) => boolean, run: (m: Model, r: Real) => Promise<void>): Cmd {
  return { check, run, toString: () => name };
}

const instance = fc.integer({ min: 0, max: 1 });
const ip = fc.constantFrom(...IPS);

const login = fc.record({ user: fc.integer({ min: 0, max: 1 }), on: instance, ip }).map(({ user, on, ip }) =>
  command(`login(user ${user}, instance ${on}, ${ip})`, () => true, async (m, r) => {
    const password = m.passwords[user]!;
    const got = await callerFor(node(r, on), { ip }).auth.login({ email: email(user), password }).catch((e: { appCode?: string }) => e);
    if (!reserve(m, user, ip)) {
      expect((got as { appCode?: string }).appCode).toBe("RATE_LIMITED");
      return;
    }
    const result = got as { accessToken?: string; refreshToken?: string };
    expect(result.accessToken, JSON.stringify(got)).toBeTypeOf("string");
    succeed(m, user, ip);
    m.sessions.push({ user, refreshTokens: [result.refreshToken!], rotatedAt: [], accessTokens: [result.accessToken!], revoked: false });
  }),
);

const wrongLogin = fc.record({ user: fc.integer({ min: 0, max: GHOST }), on: instance, ip }).map(({ user, on, ip }) =>
  command(`wrongLogin(${email(user)}, instance ${on}, ${ip})`, () => true, async (m, r) => {
    const got = await outcome(callerFor(node(r, on), { ip }).auth.login({ email: email(user), password: WRONG }));
    if (reserve(m, user, ip)) {
      expect(got).toBe("INVALID_CREDENTIALS");
      fail(m, user, ip);
    } else {
      expect(got).toBe("RATE_LIMITED");
    }
  }),
);

const burst = fc.record({ user: fc.integer({ min: 0, max: GHOST }), ip, size: fc.integer({ min: 2, max: 8 }) }).map(({ user, ip, size }) =>
  command(`burst(${size} wrong logins at once for ${email(user)} from ${ip}, both instances)`, () => true, async (m, r) => {
    const got = await Promise.all(
      Array.from({ length: size }, (_, i) =>
        outcome(callerFor(node(r, i % 2), { ip }).auth.login({ email: email(user), password: WRONG })),
      ),
    );
    let allowed = 0;
    while (allowed < size && reserve(m, user, ip)) {
      fail(m, user, ip);
      allowed++;
    }
    expect(got.filter((o) => o === "INVALID_CREDENTIALS")).toHaveLength(allowed);
    expect(got.filter((o) => o === "RATE_LIMITED")).toHaveLength(size - allowed);
  }),
);

const pick = fc.nat();

const refresh = fc.record({ s: pick, on: instance }).map(({ s, on }) =>
  command(`refresh(session #${s}, instance ${on})`, (m) => m.sessions.length > 0, async (m, r) => {
    const session = m.sessions[s % m.sessions.length]!;
    const head = session.refreshTokens.at(-1)!;
    const got = await callerFor(node(r, on)).auth.refresh({ refreshToken: head }).catch((e: { appCode?: string }) => e);
    if (session.revoked) {
      expect((got as { appCode?: string }).appCode).toBe("REFRESH_TOKEN_INVALID");
      return;
    }
    const result = got as { accessToken: string; refreshToken: string };
    expect(result.refreshToken, JSON.stringify(got)).toBeTypeOf("string");
    expect(result.refreshToken).not.toBe(head);
    session.refreshTokens.push(result.refreshToken);
    session.rotatedAt.push(m.now());
    session.accessTokens.push(result.accessToken);
  }),
);

const replay = fc.record({ s: pick, back: fc.integer({ min: 1, max: 2 }), on: instance }).map(({ s, back, on }) =>
  command(
    `replay(session #${s}, ${back} generation(s) old, instance ${on})`,
    (m) => m.sessions.some((x) => x.refreshTokens.length > back),
    async (m, r) => {
      const candidates = m.sessions.filter((x) => x.refreshTokens.length > back);
      const session = candidates[s % candidates.length]!;
      const index = session.refreshTokens.length - 1 - back;
      const got = await callerFor(node(r, on)).auth.refresh({ refreshToken: session.refreshTokens[index]! }).catch((e: { appCode?: string }) => e);
      const code = (got as { appCode?: string }).appCode;
      if (session.revoked) {
        expect(code).toBe("REFRESH_TOKEN_INVALID");
      } else if (back === 1 && m.now() - session.rotatedAt[index]! < GRACE_SECONDS * 1000) {
        // Inside the grace window of its own rotation: the same successor, a fresh access token.
        const result = got as { accessToken: string; refreshToken: string };
        expect(result.refreshToken, JSON.stringify(got)).toBe(session.refreshTokens.at(-1));
        session.accessTokens.push(result.accessToken);
      } else {
        expect(code).toBe("REFRESH_TOKEN_REUSED");
        session.revoked = true;
      }
    },
  ),
);

const logout = fc.record({ s: pick, on: instance }).map(({ s, on }) =>
  command(`logout(session #${s}, instance ${on})`, (m) => m.sessions.length > 0, async (m, r) => {
    const session = m.sessions[s % m.sessions.length]!;
    const got = await outcome(callerFor(node(r, on), { token: session.accessTokens.at(-1)! }).auth.logout());
    expect(got).toBe(session.revoked ? "SESSION_REVOKED" : "OK");
    session.revoked = true;
  }),
);

const changePassword = fc.record({ s: pick, on: instance, ip, right: fc.boolean() }).map(({ s, on, ip, right }) =>
  command(
    `changePassword(session #${s}, instance ${on}, ${ip}, ${right ? "right" : "wrong"} current password)`,
    (m) => liveSessions(m).length > 0,
    async (m, r) => {
      const live = liveSessions(m);
      const session = live[s % live.length]!;
      const user = session.user;
      const next = `model passphrase ${++m.passwordSerial} of the day`;
      const got = await callerFor(node(r, on), { ip, token: session.accessTokens.at(-1)! })
        .auth.changePassword({ currentPassword: right ? m.passwords[user]! : WRONG, newPassword: next })
        .catch((e: { appCode?: string }) => e);
      const code = (got as { appCode?: string }).appCode;
      if (!reserve(m, user, ip)) {
        expect(code).toBe("RATE_LIMITED");
        return;
      }
      if (!right) {
        expect(["INVALID_CREDENTIALS", "CURRENT_PASSWORD_INVALID"]).toContain(code);
        fail(m, user, ip);
        return;
      }
      const result = got as { accessToken: string; refreshToken: string };
      expect(result.refreshToken, JSON.stringify(got)).toBeTypeOf("string");
      succeed(m, user, ip);
      m.passwords[user] = next;
      for (const other of m.sessions) if (other.user === user) other.revoked = true;
      m.sessions.push({ user, refreshTokens: [result.refreshToken], rotatedAt: [], accessTokens: [result.accessToken], revoked: false });
    },
  ),
);

const advance = fc.constantFrom(3, 11).map((seconds) =>
  command(`advance the clock ${seconds}s`, () => true, async (_m, r) => {
    r.clock.advance(seconds);
  }),
);

/** The invariants, against the real database, after every step. */
async function checkInvariants(m: Model, r: Real, db: Database): Promise<void> {
  const now = r.clock.now();
  const heads = await db.prisma.refreshToken.groupBy({
    by: ["sessionId"],
    where: { usedAt: null, expiresAt: { gt: now }, session: { revokedAt: null, expiresAt: { gt: now } } },
    _count: { _all: true },
  });
  expect(heads.filter((h) => h._count._all > 1), "a session with two live chains").toEqual([]);

  const liveInDb = await db.prisma.session.count({ where: { revokedAt: null, expiresAt: { gt: now } } });
  expect(liveInDb, "live sessions: database vs model").toBe(liveSessions(m).length);
  for (const session of m.sessions.filter((s) => s.revoked)) {
    for (const token of session.accessTokens) {
      expect(await outcome(callerFor(r.instances[0], { token }).auth.me()), "access after revocation").toBe("SESSION_REVOKED");
    }
  }

  expect(r.verifications(), "password verifications").toBe(m.verifications);
}

describe.skipIf(redisUrl === null)(`sessions and lockout, model-based, two instances sharing Redis${redisUrl === null ? " (skipped: no Redis answers)" : ""}`, () => {
  let db: Database;
  let prefix: string;
  let run = 0;

  beforeAll(async () => {
    db = await openTestDatabase();
    prefix = redisKeyPrefix(redisUrl!);
  });

  it(`holds every invariant after every step (${RUNS} runs of up to ${MAX_COMMANDS} commands)`, { timeout: 600_000 }, async () => {
    expect("auth.changePassword" in (appRouter._def.procedures as Record<string, unknown>)).toBe(true);
    const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Date.now() % 2_147_483_647;
    console.log(`tests/sessions-model.test.ts: fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
    const commands = [login, wrongLogin, burst, refresh, replay, logout, changePassword, advance];

    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: MAX_COMMANDS }), async (cmds) => {
        await resetDatabase(db);
        const clock = new TestClock(new Date("2026-06-01T00:00:00Z"));
        let verifications = 0;
        const env = {
          REDIS_URL: redisUrl!,
          REDIS_KEY_PREFIX: `${prefix}run${++run}:`,
          LOGIN_MAX_FAILURES: String(MAX_FAILURES),
          LOGIN_EMAIL_MAX_FAILURES: String(EMAIL_MAX_FAILURES),
          REFRESH_REUSE_GRACE: `${GRACE_SECONDS}s`,
        };
        const make = () => testServices(db, { env, clock, onPasswordVerify: () => verifications++ });
        const real: Real = { instances: [await make(), await make()], clock, verifications: () => verifications };
        try {
        const model: Model = {
          passwords: ["model passphrase zero for a", "model passphrase zero for b", null],
          sessions: [],
          clientFailures: new Map(),
          emailFailures: [0, 0, 0],
          verifications: 0,
          now: () => clock.now().getTime(),
          passwordSerial: 0,
        };
        for (const user of [0, 1]) {
          const result = await callerFor(real.instances[user as 0 | 1]).auth.register({
            email: email(user),
            password: model.passwords[user]!,
            name: `Model ${user}`,
          });
          model.sessions.push({ user, refreshTokens: [result.refreshToken], rotatedAt: [], accessTokens: [result.accessToken], revoked: false });
        }
        const checked = Array.from(cmds, (cmd) => ({
          check: (m: Readonly<Model>) => cmd.check(m),
          run: async (m: Model, r: Real) => {
            await cmd.run(m, r);
            await checkInvariants(m, r, db);
          },
          toString: () => cmd.toString(),
        }));
        await fc.asyncModelRun(() => ({ model, real }), checked);
        } finally {
          await Promise.all(real.instances.map((s) => s.close()));
        }
      }),
      { seed, numRuns: RUNS, endOnFailure: true },
    );
  });
});
