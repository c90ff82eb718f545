/**
 * Logs and metrics agree: the security log's lines and the counters of
 * `/metrics` come from the same function (logSecurityEvent), so a known mix
 * of traffic adds up to the same numbers in both, and to what was sent.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../server/services.ts";
import { newAccount } from "./helpers/caller.ts";
import { openTestDatabase } from "./helpers/database.ts";
import { dataOf, expectError, mutate, query } from "./helpers/http.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { captureLog, type CapturedLog } from "./helpers/log.ts";
import { parseSamples, valueOf } from "./helpers/prometheus.ts";
import { testServices } from "./helpers/services.ts";

const WRONG = "definitely not the password";
let services: Services;
let base: string;
let captured: CapturedLog;

beforeAll(async () => {
  const db = await openTestDatabase();
  captured = captureLog("info");
  services = await testServices(db, {
    log: captured.log,
    // Clients told apart by X-Forwarded-For behind one trusted proxy; small limits to reach.
    env: { LOGIN_MAX_FAILURES: "3", AUTH_RATE_LIMIT_PER_MINUTE: "4", TRUST_PROXY: "1" },
  });
  base = (await startTestServer(services)).url;
});

const from = (ip: string) => ({ headers: { "x-forwarded-for": ip } });
type Key = string;
const keyOf = (event: unknown, outcome: unknown, code: unknown, limit: unknown): Key => `${event} ${outcome} ${code ?? "none"} ${limit ?? "none"}`;

describe("security log and metrics", () => {
  it("count the same decisions for a known mix of traffic, and both add up to it", async () => {
    const a = newAccount();
    const b = newAccount();
    // Client 1: register, sign in (tRPC and REST), one wrong password: 4 mutations, within its limit.
    dataOf(await mutate(base, "auth.register", a, from("203.0.113.1")));
    dataOf(await mutate(base, "auth.login", { email: a.email, password: a.password }, from("203.0.113.1")));
    expectError(await mutate(base, "auth.login", { email: a.email, password: WRONG }, from("203.0.113.1")), 401, "INVALID_CREDENTIALS");
    const rest = await fetch(`${base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.1" },
      body: JSON.stringify({ email: a.email, password: a.password }),
    });
    expect(rest.status).toBe(200);
    // Client 2: three wrong passwords lock the email; then even the right one is refused.
    for (let i = 0; i < 3; i++) expectError(await mutate(base, "auth.login", { email: b.email, password: WRONG }, from("203.0.113.2")), 401, "INVALID_CREDENTIALS");
    expectError(await mutate(base, "auth.login", { email: b.email, password: b.password }, from("203.0.113.2")), 429, "RATE_LIMITED");
    // Client 3: a batch of two logins, two more, then the IP limit refuses a login and a refresh.
    const batch = await fetch(`${base}/trpc/auth.login,auth.login?batch=1`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.3" },
      body: JSON.stringify({ 0: { json: { email: "c1@example.com", password: WRONG } }, 1: { json: { email: "c2@example.com", password: WRONG } } }),
    });
    expect(batch.status).toBe(401);
    for (const email of ["c3@example.com", "c4@example.com"]) {
      expectError(await mutate(base, "auth.login", { email, password: WRONG }, from("203.0.113.3")), 401, "INVALID_CREDENTIALS");
    }
    expectError(await mutate(base, "auth.login", { email: "c5@example.com", password: WRONG }, from("203.0.113.3")), 429, "RATE_LIMITED");
    expectError(await mutate(base, "auth.refresh", { refreshToken: "x.y" }, from("203.0.113.3")), 429, "RATE_LIMITED");
    // Client 4: a query without a token.
    expectError(await query(base, "auth.me", undefined, from("203.0.113.4")), 401, "TOKEN_MISSING");
    await services.background.drain();

    const sent: Record<Key, number> = {
      [keyOf("auth.register", "success", null, null)]: 1,
      [keyOf("auth.login", "success", null, null)]: 2,
      [keyOf("auth.login", "failure", "INVALID_CREDENTIALS", null)]: 1 + 3 + 2 + 2,
      [keyOf("auth.login", "failure", "RATE_LIMITED", "account")]: 1,
      [keyOf("auth.login", "failure", "RATE_LIMITED", "ip")]: 1,
      [keyOf("auth.refresh", "failure", "RATE_LIMITED", "ip")]: 1,
      [keyOf("access.denied", "failure", "TOKEN_MISSING", null)]: 1,
    };

    const logged: Record<Key, number> = {};
    for (const line of captured.lines().filter((l) => l.security === true)) {
      const key = keyOf(line.event, line.outcome, line.appCode, line.limit);
      logged[key] = (logged[key] ?? 0) + 1;
    }
    const samples = parseSamples(await services.observability.metrics.text());
    const counted: Record<Key, number> = {};
    for (const s of samples.filter((s) => s.name === "gatehouse_security_events_total" && s.value > 0)) {
      counted[keyOf(s.labels.event, s.labels.outcome, s.labels.code, s.labels.limit)] = s.value;
    }

    // Logs and counters: the same decisions, the same numbers (mail lines included).
    expect(counted).toEqual(logged);
    // And the auth decisions are exactly the traffic sent.
    const auth = (all: Record<Key, number>) => Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith("mail.")));
    expect(auth(logged)).toEqual(sent);

    // The derived counters say the same.
    expect({
      success: valueOf(samples, "gatehouse_sign_ins_total", { result: "success" }),
      invalid: valueOf(samples, "gatehouse_sign_ins_total", { result: "INVALID_CREDENTIALS" }),
      limited: valueOf(samples, "gatehouse_sign_ins_total", { result: "RATE_LIMITED" }),
      lockouts: valueOf(samples, "gatehouse_login_lockouts_total"),
      ipLogin: valueOf(samples, "gatehouse_rate_limited_total", { event: "auth.login", code: "RATE_LIMITED", limit: "ip" }),
      ipRefresh: valueOf(samples, "gatehouse_rate_limited_total", { event: "auth.refresh", code: "RATE_LIMITED", limit: "ip" }),
      account: valueOf(samples, "gatehouse_rate_limited_total", { event: "auth.login", code: "RATE_LIMITED", limit: "account" }),
    }).toEqual({ success: 2, invalid: 8, limited: 2, lockouts: 1, ipLogin: 1, ipRefresh: 1, account: 1 });
  });
});
