/**
 * `npm run load`: a bounded load test against a local server this script
 * starts itself (loopback only), followed by a check in the database that
 * nothing was lost or duplicated. Not part of `npm test`.
 *
 * Many virtual users each loop through register, me, login, refresh, a
 * replayed refresh token, a wrong password, a duplicate registration and
 * logout, from a client address of their own (X-Forwarded-For, with
 * TRUST_PROXY on). One attacker meanwhile guesses a victim's password: after
 * LOGIN_MAX_FAILURES (5) the victim's email must answer 429, even to the
 * right password. Afterwards, with the server stopped:
 * - every acknowledged registration exists exactly once, and no account
 *   exists that was not acknowledged;
 * - every session revoked by logout or by a replayed refresh token stays
 *   revoked, every rotated refresh token stays used, every live session the
 *   users still hold is live.
 * It prints the error count, which must be zero besides the intended 401, 409
 * and 429 answers, and exits non-zero on any violation.
 *
 * Then a spoofed-IP flood: LOAD_SPOOFED_IPS public mutations, each from a
 * client address of its own (as a proxy would report them), and the server's
 * RSS before, during and after. Every address is a new key of the per-IP
 * counter; the in-memory store is bounded (server/limits/bounded-memory.ts),
 * so RSS must level off instead of growing with the count (it grew by about
 * 96 MB over 150,000 addresses before the bound). Exits non-zero when RSS
 * grows by more than LOAD_SPOOFED_RSS_BUDGET_MB.
 *
 * Settings (environment):
 *   LOAD_DURATION       seconds of load (default 30)
 *   LOAD_USERS          concurrent virtual users (default 20)
 *   LOAD_BCRYPT_COST    bcrypt cost of the server (default 4)
 *   LOAD_RATE_LIMIT     AUTH_RATE_LIMIT_PER_MINUTE of the server (default 100000)
 *   LOAD_PG_SERVER_URL  a loopback PostgreSQL server: a scratch database is
 *                       created on it and dropped afterwards (default: embedded
 *                       PGlite in a temporary directory)
 *   LOAD_REDIS_URL      a loopback Redis for the rate-limit counters (default: none)
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../server/db/database.ts";
import { createLogger } from "../server/log.ts";
import { buildServer, spawnServer } from "../tests/helpers/production-server.ts";
import { createDatabase, databaseUrlFor, dropDatabase } from "../tests/helpers/scratch-postgres.ts";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`${name} must be a positive whole number (got "${raw}")`);
    process.exit(2);
  }
  return value;
}

function loopbackUrl(name: string): string | undefined {
  const raw = process.env[name];
  if (!raw) return undefined;
  if (!URL.canParse(raw) || !LOOPBACK.has(new URL(raw).hostname)) {
    console.error(`${name} must be a URL on this machine's loopback (127.0.0.1, localhost or [::1])`);
    process.exit(2);
  }
  return raw;
}

const DURATION_S = intFromEnv("LOAD_DURATION", 30);
const USERS = intFromEnv("LOAD_USERS", 20);
const BCRYPT_COST = intFromEnv("LOAD_BCRYPT_COST", 4);
const RATE_LIMIT = intFromEnv("LOAD_RATE_LIMIT", 100_000);
/** The server's LOGIN_MAX_FAILURES: ordinary users fail once per email, the attacker many times. */
const LOGIN_MAX_FAILURES = 5;
const PG_SERVER_URL = loopbackUrl("LOAD_PG_SERVER_URL");
const REDIS_URL = loopbackUrl("LOAD_REDIS_URL");
/** Distinct client addresses of the spoofed-IP flood (0 skips it). */
const SPOOFED_IPS = intFromEnv("LOAD_SPOOFED_IPS", 150_000);
/** Most the server's RSS may grow during the flood, in MB. */
const SPOOFED_RSS_BUDGET_MB = intFromEnv("LOAD_SPOOFED_RSS_BUDGET_MB", 40);
/** Requests of the flood in flight at once. */
const FLOOD_CONCURRENCY = 64;
/** Longest a single request may take before it counts as an error. */
const REQUEST_TIMEOUT_MS = 15_000;

// ---------------------------------------------------------------------------
// Bookkeeping

type Step =
  | "register"
  | "me"
  | "login"
  | "refresh"
  | "replay"
  | "wrongPassword"
  | "duplicate"
  | "logout"
  | "meAfterLogout"
  | "guess"
  | "lockedLogin";

interface Sample {
  step: Step;
  status: number;
  appCode: string | null;
  ms: number;
}

const samples: Sample[] = [];
const unexpected: string[] = [];
/** Acknowledged registrations: email → user id. */
const registered = new Map<string, string>();
/** Session ids revoked by logout or by a replayed refresh token. */
const revokedSessions = new Set<string>();
/** Sessions a user still holds at the end: session id → user id. */
const liveSessions = new Map<string, string>();
/** Refresh-token ids that were rotated away (must stay used). */
const retiredRefreshTokens = new Set<string>();

const runId = randomBytes(4).toString("hex");

function sessionIdOf(accessToken: string): string {
  const payload = JSON.parse(Buffer.from(accessToken.split(".")[1]!, "base64url").toString()) as { sid: string };
  return payload.sid;
}

interface AuthResult {
  accessToken: string;
  refreshToken: string;
  user: { id: string; email: string };
}

// ---------------------------------------------------------------------------
// The server

/** Builds and starts the server as `npm start` does; `stop()` sends SIGTERM and returns the exit code. */
async function startServer(env: Record<string, string>) {
  buildServer();
  const server = await spawnServer(env);
  return {
    url: server.url,
    output: server.output,
    pid: server.proc.pid!,
    async stop(): Promise<number | null> {
      server.proc.kill("SIGTERM");
      return server.exited;
    },
  };
}

// ---------------------------------------------------------------------------
// One virtual user

class VirtualUser {
  readonly #base: string;
  readonly #ip: string;
  #n = 0;

  constructor(base: string, index: number) {
    this.#base = base;
    // Documentation range (RFC 5737), one address per user; only a header.
    this.#ip = `198.18.${Math.floor(index / 250)}.${(index % 250) + 1}`;
  }

  async #call(step: Step, kind: "query" | "mutation", path: string, input: unknown, token?: string) {
    const headers: Record<string, string> = { "x-forwarded-for": this.#ip };
    if (token) headers.authorization = `Bearer ${token}`;
    const started = performance.now();
    let status = 0;
    let body: any = null;
    try {
      const res =
        kind === "mutation"
          ? await fetch(`${this.#base}/trpc/${path}`, {
              method: "POST",
              headers: { ...headers, "content-type": "application/json" },
              body: JSON.stringify(input === undefined ? {} : { json: input }),
              signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
            })
          : await fetch(`${this.#base}/trpc/${path}`, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      status = res.status;
      body = await res.json().catch(() => null);
    } catch (error) {
      unexpected.push(`${step}: ${error instanceof Error ? error.message : String(error)}`);
      samples.push({ step, status: 0, appCode: "NETWORK", ms: performance.now() - started });
      return { status: 0, appCode: "NETWORK", data: null };
    }
    const appCode: string | null = body?.error?.json?.data?.appCode ?? null;
    samples.push({ step, status, appCode, ms: performance.now() - started });
    return { status, appCode, data: body?.result?.data?.json ?? null };
  }

  /** Checks an answer against what the step allows; anything else is an error. */
  #expect(step: Step, answer: { status: number; appCode: string | null }, allowed: Array<[number, string | null]>): boolean {
    if (answer.status === 429 && answer.appCode === "RATE_LIMITED") return false; // intended, but the step did not run
    const ok = allowed.some(([status, appCode]) => status === answer.status && appCode === answer.appCode);
    if (!ok && answer.status !== 0) unexpected.push(`${step}: got ${answer.status} ${answer.appCode ?? ""}`);
    return ok;
  }

  async run(deadline: number): Promise<void> {
    while (Date.now() < deadline) await this.#iteration();
  }

  /** The attacker: guesses one account's password until its email is locked, then checks the lock holds. */
  async attack(deadline: number): Promise<void> {
    const email = `load-${runId}-victim@example.com`;
    const password = "the victim's real passphrase";
    const reg = await this.#call("register", "mutation", "auth.register", { email, password, name: "Victim" });
    if (!this.#expect("register", reg, [[200, null]])) return;
    const victim = reg.data as AuthResult;
    registered.set(email, victim.user.id);
    liveSessions.set(sessionIdOf(victim.accessToken), victim.user.id);
    let locked = false;
    for (let guess = 0; Date.now() < deadline; guess++) {
      const answer = await this.#call("guess", "mutation", "auth.login", { email, password: `guess ${guess}` });
      const allowed: Array<[number, string | null]> = locked ? [[429, "RATE_LIMITED"]] : [[401, "INVALID_CREDENTIALS"], [429, "RATE_LIMITED"]];
      if (!allowed.some(([st, code]) => st === answer.status && code === answer.appCode)) unexpected.push(`guess: got ${answer.status} ${answer.appCode ?? ""}`);
      if (answer.status === 429 && !locked) {
        locked = true;
        if (guess !== LOGIN_MAX_FAILURES) unexpected.push(`guess: locked after ${guess} failures, not ${LOGIN_MAX_FAILURES}`);
        const right = await this.#call("lockedLogin", "mutation", "auth.login", { email, password });
        if (!(right.status === 429 && right.appCode === "RATE_LIMITED")) unexpected.push(`lockedLogin: the right password got ${right.status} ${right.appCode ?? ""} while locked`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!locked) unexpected.push("guess: the victim's email was never locked");
  }

  async #iteration(): Promise<void> {
    const email = `load-${runId}-${this.#ip.replaceAll(".", "-")}-${++this.#n}@example.com`;
    const password = `load test passphrase ${randomBytes(6).toString("hex")}`;

    const reg = await this.#call("register", "mutation", "auth.register", { email, password, name: `Load ${this.#n}` });
    if (!this.#expect("register", reg, [[200, null]])) return;
    const first = reg.data as AuthResult;
    registered.set(email, first.user.id);
    const firstSid = sessionIdOf(first.accessToken);
    liveSessions.set(firstSid, first.user.id);

    this.#expect("me", await this.#call("me", "query", "auth.me", undefined, first.accessToken), [[200, null]]);

    const login = await this.#call("login", "mutation", "auth.login", { email, password });
    let second: AuthResult | null = null;
    if (this.#expect("login", login, [[200, null]])) {
      second = login.data as AuthResult;
      liveSessions.set(sessionIdOf(second.accessToken), first.user.id);
    }

    if (second) {
      const refreshed = await this.#call("refresh", "mutation", "auth.refresh", { refreshToken: second.refreshToken });
      if (this.#expect("refresh", refreshed, [[200, null]])) {
        retiredRefreshTokens.add(second.refreshToken.split(".")[0]!);
        const rotated = refreshed.data as AuthResult;
        // Every third user replays the retired token: the whole session must die.
        if (this.#n % 3 === 0) {
          const replay = await this.#call("replay", "mutation", "auth.refresh", { refreshToken: second.refreshToken });
          if (this.#expect("replay", replay, [[401, "REFRESH_TOKEN_REUSED"]])) {
            const sid = sessionIdOf(rotated.accessToken);
            revokedSessions.add(sid);
            liveSessions.delete(sid);
          }
        } else {
          this.#expect("me", await this.#call("me", "query", "auth.me", undefined, rotated.accessToken), [[200, null]]);
        }
      }
    }

    this.#expect("wrongPassword", await this.#call("wrongPassword", "mutation", "auth.login", { email, password: `${password}!` }), [
      [401, "INVALID_CREDENTIALS"],
    ]);
    this.#expect("duplicate", await this.#call("duplicate", "mutation", "auth.register", { email: email.toUpperCase(), password, name: "Dup" }), [
      [409, "EMAIL_TAKEN"],
    ]);

    const logout = await this.#call("logout", "mutation", "auth.logout", undefined, first.accessToken);
    if (this.#expect("logout", logout, [[200, null]])) {
      revokedSessions.add(firstSid);
      liveSessions.delete(firstSid);
      // Revocation is immediate, not at token expiry.
      this.#expect("meAfterLogout", await this.#call("meAfterLogout", "query", "auth.me", undefined, first.accessToken), [
        [401, "SESSION_REVOKED"],
      ]);
    }
  }
}

// ---------------------------------------------------------------------------
// The check afterwards

async function checkDatabase(databaseUrl: string | undefined, dataDir: string): Promise<string[]> {
  const violations: string[] = [];
  const db = await openDatabase({ databaseUrl, dataDir, log: createLogger({ logLevel: "silent" }), migrate: false, poolSize: 2 });
  try {
    const users = await db.prisma.user.findMany({ where: { email: { startsWith: `load-${runId}-` } }, select: { id: true, email: true } });
    const byEmail = new Map<string, string[]>();
    for (const u of users) byEmail.set(u.email, [...(byEmail.get(u.email) ?? []), u.id]);
    for (const [email, id] of registered) {
      const ids = byEmail.get(email) ?? [];
      if (ids.length !== 1) violations.push(`acknowledged registration ${email} exists ${ids.length} times`);
      else if (ids[0] !== id) violations.push(`acknowledged registration ${email} has id ${ids[0]}, acknowledged ${id}`);
    }
    for (const email of byEmail.keys()) {
      if (!registered.has(email)) violations.push(`account ${email} exists but its registration was never acknowledged`);
    }

    const revoked = await db.prisma.session.findMany({ where: { id: { in: [...revokedSessions] } }, select: { id: true, revokedAt: true } });
    const revokedById = new Map(revoked.map((s) => [s.id, s.revokedAt]));
    for (const sid of revokedSessions) {
      if (!revokedById.has(sid)) violations.push(`revoked session ${sid} is missing`);
      else if (revokedById.get(sid) === null) violations.push(`revoked session ${sid} is live again`);
    }
    const live = await db.prisma.session.findMany({ where: { id: { in: [...liveSessions.keys()] } }, select: { id: true, userId: true, revokedAt: true } });
    const liveById = new Map(live.map((s) => [s.id, s]));
    for (const [sid, userId] of liveSessions) {
      const row = liveById.get(sid);
      if (!row) violations.push(`session ${sid} was lost`);
      else if (row.userId !== userId) violations.push(`session ${sid} belongs to another user`);
      else if (row.revokedAt !== null) violations.push(`session ${sid} was revoked without a logout`);
    }
    const retired = await db.prisma.refreshToken.findMany({ where: { id: { in: [...retiredRefreshTokens] } }, select: { id: true, usedAt: true } });
    const retiredById = new Map(retired.map((t) => [t.id, t.usedAt]));
    for (const id of retiredRefreshTokens) {
      if (!retiredById.has(id)) violations.push(`rotated refresh token ${id} is missing`);
      else if (retiredById.get(id) === null) violations.push(`rotated refresh token ${id} is usable again`);
    }
  } finally {
    await db.close();
  }
  return violations;
}

// ---------------------------------------------------------------------------
// Report

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function report(elapsedS: number): void {
  const steps = [...new Set(samples.map((s) => s.step))];
  console.log(`\n${samples.length} requests in ${elapsedS.toFixed(1)} s (${(samples.length / elapsedS).toFixed(0)}/s), ${USERS} users, bcrypt cost ${BCRYPT_COST}`);
  console.log("step            count    p50 ms   p95 ms   p99 ms   statuses");
  for (const step of steps) {
    const of = samples.filter((s) => s.step === step);
    const ms = of.map((s) => s.ms).sort((a, b) => a - b);
    const statuses = new Map<string, number>();
    for (const s of of) {
      const key = s.appCode ? `${s.status} ${s.appCode}` : String(s.status);
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
    console.log(
      `${step.padEnd(14)} ${String(of.length).padStart(6)} ${percentile(ms, 50).toFixed(1).padStart(9)} ${percentile(ms, 95).toFixed(1).padStart(8)} ${percentile(ms, 99).toFixed(1).padStart(8)}   ${[...statuses].map(([k, v]) => `${k}×${v}`).join(", ")}`,
    );
  }
  const intended = samples.filter((s) => [401, 409, 429].includes(s.status)).length;
  console.log(`\nintended 401/409/429 answers: ${intended}`);
  console.log(`errors (anything else unexpected): ${unexpected.length}`);
  const distinct = [...new Set(unexpected)];
  for (const line of distinct.slice(0, 20)) console.log(`  - ${line} (×${unexpected.filter((u) => u === line).length})`);
}

// ---------------------------------------------------------------------------
// Spoofed-IP flood

/** The resident set size of a process, in MB (Linux). */
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(/(\d+)/.exec(line ?? "")?.[1] ?? 0) / 1024;
}

/** The nth distinct client address: 10.x.y.z, then 11.x.y.z, ... */
function spoofedIp(n: number): string {
  return `${10 + (n >>> 24)}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * LOAD_SPOOFED_IPS refresh calls with a malformed token, each from its own
 * address: the cheapest public mutation (no database, no bcrypt), so what
 * grows is the rate limiter's keys. Returns the violations.
 */
async function spoofedIpFlood(url: string, pid: number): Promise<string[]> {
  if (SPOOFED_IPS === 0) return [];
  const before = rssMb(pid);
  const marks: string[] = [`0: ${before.toFixed(1)} MB`];
  const step = Math.ceil(SPOOFED_IPS / 5);
  let next = 0;
  let errors = 0;
  const started = Date.now();
  let peak = before;
  const worker = async () => {
    for (let n = next++; n < SPOOFED_IPS; n = next++) {
      const res = await fetch(`${url}/trpc/auth.refresh`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": spoofedIp(n) },
        body: '{"json":{"refreshToken":"x"}}',
      });
      await res.arrayBuffer();
      if (res.status !== 401) errors++;
      if ((n + 1) % step === 0) {
        const rss = rssMb(pid);
        peak = Math.max(peak, rss);
        marks.push(`${n + 1}: ${rss.toFixed(1)} MB`);
      }
    }
  };
  await Promise.all(Array.from({ length: FLOOD_CONCURRENCY }, worker));
  const after = rssMb(pid);
  peak = Math.max(peak, after);
  const seconds = (Date.now() - started) / 1000;
  console.log(`\nspoofed-IP flood: ${SPOOFED_IPS} distinct client addresses in ${seconds.toFixed(1)} s (${(SPOOFED_IPS / seconds).toFixed(0)}/s)`);
  console.log(`server RSS by requests sent: ${marks.join(", ")}; peak ${peak.toFixed(1)} MB, growth ${(peak - before).toFixed(1)} MB`);
  const violations: string[] = [];
  if (errors > 0) violations.push(`${errors} flood requests did not answer 401`);
  if (peak - before > SPOOFED_RSS_BUDGET_MB) {
    violations.push(`server RSS grew by ${(peak - before).toFixed(1)} MB over ${SPOOFED_IPS} addresses (budget ${SPOOFED_RSS_BUDGET_MB} MB)`);
  }
  return violations;
}

// ---------------------------------------------------------------------------

async function main(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-load-"));
  let databaseUrl: string | undefined;
  let scratch: { serverUrl: string; name: string } | undefined;
  if (PG_SERVER_URL) {
    // Left empty: the server migrates it at start-up.
    scratch = { serverUrl: PG_SERVER_URL, name: `gatehouse_load_${runId}` };
    await createDatabase(scratch.serverUrl, scratch.name);
    databaseUrl = databaseUrlFor(scratch.serverUrl, scratch.name);
  }
  try {
    const server = await startServer({
      // Said explicitly: with DATABASE_URL set and NODE_ENV unset the server refuses to start.
      NODE_ENV: "development",
      DATA_DIR: dataDir,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ...(REDIS_URL ? { REDIS_URL, REDIS_KEY_PREFIX: `gatehouse-load:${runId}:` } : {}),
      JWT_SECRET: randomBytes(32).toString("base64url"),
      BCRYPT_COST: String(BCRYPT_COST),
      // One proxy in front: each virtual user's address is the one it "appended".
      TRUST_PROXY: "1",
      AUTH_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
      LOGIN_MAX_FAILURES: String(LOGIN_MAX_FAILURES),
      LOGIN_LOCKOUT: "15m",
      // A replay right after its rotation must be reuse here, not a grace answer.
      REFRESH_REUSE_GRACE: "0",
    });
    console.log(`server ${server.url} (${databaseUrl ? "PostgreSQL" : "PGlite"}${REDIS_URL ? " + Redis" : ""}); ${USERS} users for ${DURATION_S} s`);
    const started = Date.now();
    const deadline = started + DURATION_S * 1000;
    await Promise.all([
      ...Array.from({ length: USERS }, (_, i) => new VirtualUser(server.url, i).run(deadline)),
      new VirtualUser(server.url, USERS).attack(deadline),
    ]);
    const elapsed = (Date.now() - started) / 1000;
    const floodViolations = await spoofedIpFlood(server.url, server.pid);

    const exitCode = await server.stop();
    const serverErrors = server.output().split("\n").filter((line) => /"level":(50|60)/.test(line));
    report(elapsed);

    const violations = [...floodViolations, ...(await checkDatabase(databaseUrl, dataDir))];
    if (exitCode !== 0) violations.push(`server exited with ${exitCode} after SIGTERM`);
    for (const line of serverErrors.slice(0, 10)) violations.push(`server logged an error: ${line.slice(0, 300)}`);
    console.log(
      `\ndatabase check: ${registered.size} acknowledged registrations, ${revokedSessions.size} revoked sessions, ` +
        `${liveSessions.size} live sessions, ${retiredRefreshTokens.size} rotated refresh tokens`,
    );
    if (violations.length === 0) console.log("no violations: nothing lost, nothing duplicated, every revocation held");
    for (const v of violations.slice(0, 50)) console.log(`VIOLATION: ${v}`);
    return violations.length === 0 && unexpected.length === 0 && samples.length > 0 ? 0 : 1;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    if (scratch) await dropDatabase(scratch.serverUrl, scratch.name);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error("load test failed:", error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
