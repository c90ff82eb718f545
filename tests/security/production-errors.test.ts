/**
 * Errors in production (NODE_ENV=production configuration) carry the
 * catalogue's message and appCode only: no stack, SQL, ORM or file text, even
 * when something unexpected breaks underneath. The details go to the log,
 * with the request id.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../server/db/database.ts";
import type { Services } from "../../server/services.ts";
import { newAccount } from "../helpers/caller.ts";
import { openTestDatabase } from "../helpers/database.ts";
import { dataOf, expectError, mutate, query, registerOverHttp, type Answer } from "../helpers/http.ts";
import { startTestServer } from "../helpers/http-server.ts";
import { captureLog, type CapturedLog } from "../helpers/log.ts";
import { testServices } from "../helpers/services.ts";

let db: Database;
let services: Services;
let logs: CapturedLog;
let base: string;

/** Text that must never reach a client in production. */
const LEAKS = /stack|\bat \S+ \(|\.ts\b|\.js\b|node_modules|prisma|postgres|pglite|SELECT|INSERT|UPDATE|column|relation|constraint|P\d{4}|SQLSTATE|\$queryRaw|invocation/i;

function expectNoLeak(answer: Answer): void {
  expect(answer.text).not.toMatch(LEAKS);
  const data = answer.body?.error?.json?.data ?? {};
  expect(Object.keys(data)).not.toContain("stack");
}

beforeAll(async () => {
  db = await openTestDatabase();
  logs = captureLog("error");
  services = await testServices(db, { env: { NODE_ENV: "production", BCRYPT_COST: "10" }, log: logs.log });
  expect(services.config.production).toBe(true);
  base = (await startTestServer(services)).url;
});

describe("production errors", () => {
  afterEach(async () => {
    // Undo the breakage of the INTERNAL tests, whatever happened.
    await db.prisma.$executeRawUnsafe('ALTER TABLE "users" RENAME COLUMN "name_broken" TO "name"').catch(() => {});
  });

  it("answers an unexpected database error as INTERNAL with the bare catalogue message", async () => {
    const account = newAccount();
    const { accessToken } = await registerOverHttp(base, account);
    await db.prisma.$executeRawUnsafe('ALTER TABLE "users" RENAME COLUMN "name" TO "name_broken"');

    const register = await mutate(base, "auth.register", newAccount(), { headers: { "x-request-id": "prod-internal-1" } });
    const error = expectError(register, 500, "INTERNAL");
    expect(error.message).toBe("Internal server error");
    expect(error.data).toEqual({ code: "INTERNAL_SERVER_ERROR", httpStatus: 500, path: "auth.register", appCode: "INTERNAL" });
    expectNoLeak(register);

    for (const answer of [
      await query(base, "auth.me", undefined, { token: accessToken }),
      await mutate(base, "auth.login", { email: account.email, password: account.password }),
    ]) {
      expectError(answer, 500, "INTERNAL");
      expectNoLeak(answer);
    }

    // The details are in the log, tied to the request.
    const logged = logs.lines().find((line) => line.requestId === "prod-internal-1");
    expect(logged?.msg).toBe("unexpected error in procedure");
    expect(JSON.stringify(logged)).toMatch(/name/);
  });

  it("keeps validation, auth and transport errors free of stacks and internals", async () => {
    const answers = [
      await mutate(base, "auth.register", { email: "nope", password: "short", name: "" }),
      await mutate(base, "auth.login", { email: "nobody@example.com", password: "whatever password" }),
      await query(base, "auth.me", undefined, { headers: { authorization: "Bearer not-a-jwt" } }),
      await mutate(base, "auth.login", "{not json"),
      await mutate(base, "auth.login", JSON.stringify({ json: { a: 1 }, meta: { values: { a: ["custom", "nothing-registered"] } } })),
      await mutate(base, "auth.login", JSON.stringify({ json: { a: {} }, meta: { values: { "a.__proto__.x": ["map"] } } })),
      await query(base, "auth.nothing"),
      await query(base, "auth.login", { email: "a@example.com", password: "x" }),
    ];
    const seen = answers.map((a) => a.body.error.json.data.appCode);
    expect(seen).toEqual([
      "VALIDATION_FAILED",
      "INVALID_CREDENTIALS",
      "TOKEN_INVALID",
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "NOT_FOUND",
      "METHOD_NOT_SUPPORTED",
    ]);
    for (const answer of answers) expectNoLeak(answer);
  });

  it("still works normally (control)", async () => {
    const account = newAccount();
    dataOf(await mutate(base, "auth.register", account));
    dataOf(await mutate(base, "auth.login", { email: account.email, password: account.password }));
  });
});
