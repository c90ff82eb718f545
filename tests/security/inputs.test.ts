/**
 * Hostile input over real HTTP: SQL injection in every text field, prototype
 * pollution and extra keys, oversized bodies and batches, state changes over
 * GET. Each case asserts the exact status and appCode, and what the database
 * holds afterwards.
 */
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Email } from "../../routers/auth/schema.ts";
import type { Database } from "../../server/db/database.ts";
import { newAccount } from "../helpers/caller.ts";
import { openTestDatabase, resetDatabase } from "../helpers/database.ts";
import { dataOf, expectError, mutate, query, registerOverHttp } from "../helpers/http.ts";
import { startTestServer } from "../helpers/http-server.ts";
import { expectNoChange, rowCounts } from "../helpers/rows.ts";
import { testServices } from "../helpers/services.ts";

let db: Database;
let base: string;
let account: ReturnType<typeof newAccount>;
let auth: Awaited<ReturnType<typeof registerOverHttp>>;

beforeAll(async () => {
  db = await openTestDatabase();
  base = (await startTestServer(await testServices(db))).url;
});

beforeEach(async () => {
  await resetDatabase(db);
  account = newAccount();
  auth = await registerOverHttp(base, account);
});

/** Classic injection strings; the tests also check that none of them made the database sleep. */
const INJECTIONS = [
  "' OR '1'='1",
  "' OR 1=1 --",
  "admin'--",
  "'; DROP TABLE users; --",
  "\"; DELETE FROM sessions; --",
  "1; SELECT pg_sleep(3); --",
  "' UNION SELECT password_hash FROM users --",
  "\\'; TRUNCATE refresh_tokens; --",
  "$1) OR ($2",
  "%' OR email LIKE '%",
];

/** Whether the contract's email rule accepts an address (some injection strings are legal local parts). */
const isValidEmail = (email: string) => Email.safeParse(email).success;

/** Every table is still there and answers. */
async function expectTablesIntact(): Promise<void> {
  const counts = await rowCounts(db);
  expect(counts.users).toBeGreaterThan(0);
}

async function eachInjection(check: (payload: string) => Promise<void>): Promise<void> {
  const started = Date.now();
  for (const payload of INJECTIONS) await check(payload);
  // pg_sleep(3) never ran.
  expect(Date.now() - started).toBeLessThan(INJECTIONS.length * 1_000);
  await expectTablesIntact();
}

describe("SQL injection in every text field", () => {
  it("register.email: refused as an invalid address, or (when the quote is legal there) stored verbatim", async () => {
    await eachInjection(async (payload) => {
      const email = `${payload}@example.com`;
      if (isValidEmail(email)) {
        // e.g. admin'--@example.com: RFC 5322 allows ' in a local part.
        const created = dataOf(await mutate(base, "auth.register", newAccount({ email })));
        expect((await db.prisma.user.findUniqueOrThrow({ where: { id: created.user.id } })).email).toBe(email.toLowerCase());
      } else {
        await expectNoChange(db, async () =>
          expectError(await mutate(base, "auth.register", newAccount({ email })), 400, "VALIDATION_FAILED"),
        );
      }
    });
  });

  it("register.name: stored and returned as plain text", async () => {
    await eachInjection(async (payload) => {
      const created = dataOf(await mutate(base, "auth.register", newAccount({ name: payload })));
      expect(created.user.name).toBe(payload.trim());
      expect((await db.prisma.user.findUniqueOrThrow({ where: { id: created.user.id } })).name).toBe(payload.trim());
    });
  });

  it("register.password: hashed like any password, and only the exact string logs in", async () => {
    const email = "injected-password@example.com";
    const payload = "'; DROP TABLE users; -- and more";
    dataOf(await mutate(base, "auth.register", newAccount({ email, password: payload })));
    dataOf(await mutate(base, "auth.login", { email, password: payload }));
    await eachInjection(async (other) => {
      expectError(await mutate(base, "auth.login", { email, password: other }), 401, "INVALID_CREDENTIALS");
    });
  });

  it("login.email: refused as an invalid address, or an unknown email", async () => {
    await eachInjection(async (payload) => {
      const email = `x${payload}@example.com`;
      const answer = await mutate(base, "auth.login", { email, password: account.password });
      if (isValidEmail(email)) expectError(answer, 401, "INVALID_CREDENTIALS");
      else expectError(answer, 400, "VALIDATION_FAILED");
    });
  });

  it("login.password: an ordinary wrong password", async () => {
    await eachInjection(async (payload) => {
      expectError(await mutate(base, "auth.login", { email: account.email, password: payload }), 401, "INVALID_CREDENTIALS");
    });
  });

  it("refresh.refreshToken: an invalid refresh token", async () => {
    await eachInjection(async (payload) => {
      await expectNoChange(db, async () =>
        expectError(await mutate(base, "auth.refresh", { refreshToken: payload }), 401, "REFRESH_TOKEN_INVALID"),
      );
      const [id] = auth.refreshToken.split(".");
      await expectNoChange(db, async () =>
        expectError(await mutate(base, "auth.refresh", { refreshToken: `${id}.${payload}` }), 401, "REFRESH_TOKEN_INVALID"),
      );
    });
  });

  it("revokeSession.sessionId: not found", async () => {
    await eachInjection(async (payload) => {
      await expectNoChange(db, async () =>
        expectError(await mutate(base, "auth.revokeSession", { sessionId: payload }, { token: auth.accessToken }), 404, "NOT_FOUND"),
      );
    });
    expect(dataOf(await query(base, "auth.me", undefined, { token: auth.accessToken })).id).toBe(auth.user.id);
  });

  it("requestPasswordReset.email: refused as an invalid address, or answered as an unknown email", async () => {
    await eachInjection(async (payload) => {
      const email = `x${payload}@example.com`;
      await expectNoChange(db, async () => {
        const answer = await mutate(base, "auth.requestPasswordReset", { email });
        if (isValidEmail(email)) expect(dataOf(answer)).toEqual({ success: true });
        else expectError(answer, 400, "VALIDATION_FAILED");
      });
    });
  });

  it("resetPassword.token: an invalid reset token", async () => {
    await eachInjection(async (payload) => {
      await expectNoChange(db, async () =>
        expectError(await mutate(base, "auth.resetPassword", { token: payload, newPassword: "a brand new passphrase 42" }), 400, "RESET_TOKEN_INVALID"),
      );
    });
  });

  it("verifyEmail.token: an invalid verification token", async () => {
    await eachInjection(async (payload) => {
      await expectNoChange(db, async () =>
        expectError(await mutate(base, "auth.verifyEmail", { token: payload }), 400, "VERIFICATION_TOKEN_INVALID"),
      );
    });
  });

  it("changePassword.currentPassword: a wrong current password", async () => {
    await eachInjection(async (payload) => {
      await expectNoChange(db, async () =>
        expectError(
          await mutate(base, "auth.changePassword", { currentPassword: payload, newPassword: "a brand new passphrase 42" }, { token: auth.accessToken }),
          403,
          "CURRENT_PASSWORD_INVALID",
        ),
      );
    });
  });

  it("deleteAccount.password: a wrong password, and the account stays", async () => {
    await eachInjection(async (payload) => {
      await expectNoChange(db, async () =>
        expectError(await mutate(base, "auth.deleteAccount", { password: payload }, { token: auth.accessToken }), 403, "CURRENT_PASSWORD_INVALID"),
      );
    });
  });

  it("user.updateProfile.name: stored as plain text", async () => {
    await eachInjection(async (payload) => {
      expect(dataOf(await mutate(base, "user.updateProfile", { name: payload }, { token: auth.accessToken })).name).toBe(payload.trim());
    });
    expect(await db.prisma.user.count()).toBe(1);
  });

  it("the Authorization header: an invalid token", async () => {
    await eachInjection(async (payload) => {
      await expectNoChange(db, async () =>
        expectError(await query(base, "auth.me", undefined, { headers: { authorization: `Bearer ${payload}` } }), 401, "TOKEN_INVALID"),
      );
    });
  });
});

describe("prototype pollution and extra keys", () => {
  const privileged = {
    id: "00000000-0000-4000-8000-000000000000",
    role: "admin",
    isAdmin: true,
    emailVerified: true,
    createdAt: "2000-01-01T00:00:00.000Z",
    passwordHash: "$2b$04$abcdefghijklmnopqrstuuKq6cUYGmJ0u1xQ3T3n2E9YwB1lJ0pBa",
  };

  it("ignores __proto__, constructor and privileged keys in register, storing none of them", async () => {
    const fresh = newAccount();
    // Raw JSON, so that "__proto__" is a real own key on the wire.
    const body = `{"json":{"__proto__":{"role":"admin","emailVerified":true},"constructor":{"prototype":{"isAdmin":true}},${JSON.stringify(privileged).slice(1, -1)},${JSON.stringify(fresh).slice(1, -1)}}}`;
    const created = dataOf(await mutate(base, "auth.register", body));
    expect(created.user).toEqual({ id: expect.any(String), email: fresh.email, name: fresh.name, emailVerified: false, createdAt: expect.any(String), twoFactorEnabled: false, roles: [] });
    expect(created.user.id).not.toBe(privileged.id);
    expect(new Date(created.user.createdAt).getFullYear()).toBeGreaterThan(2020);
    const row = await db.prisma.user.findUniqueOrThrow({ where: { email: fresh.email } });
    expect(row.emailVerified).toBe(false);
    expect(row.passwordHash).not.toBe(privileged.passwordHash);
    // The server's own objects were not polluted.
    expect(({} as Record<string, unknown>).role).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    // And the account works with the password that was sent.
    dataOf(await mutate(base, "auth.login", { email: fresh.email, password: fresh.password }));
  });

  it("ignores extra keys in login, refresh and updateProfile", async () => {
    dataOf(await mutate(base, "auth.login", `{"json":{"__proto__":{"password":"x"},"email":${JSON.stringify(account.email)},"password":${JSON.stringify(account.password)},"role":"admin"}}`));
    const updated = dataOf(
      await mutate(base, "user.updateProfile", { name: "New Name", email: "takeover@example.com", emailVerified: true, id: crypto.randomUUID() }, { token: auth.accessToken }),
    );
    expect(updated).toMatchObject({ id: auth.user.id, email: account.email, name: "New Name", emailVerified: false });
    const rotated = dataOf(await mutate(base, "auth.refresh", { refreshToken: auth.refreshToken, userId: crypto.randomUUID() }));
    expect(rotated.user.id).toBe(auth.user.id);
  });

  it("refuses superjson metadata that names __proto__", async () => {
    const body = JSON.stringify({ json: { ...newAccount(), a: {} }, meta: { values: { "a.__proto__.polluted": ["map"] } } });
    await expectNoChange(db, async () => expectError(await mutate(base, "auth.register", body), 400, "VALIDATION_FAILED"));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("size, batch and method limits", () => {
  it("refuses a 2 MB body with 413 PAYLOAD_TOO_LARGE", async () => {
    const big = JSON.stringify({ json: { ...newAccount(), name: "x".repeat(2 * 1024 * 1024) } });
    await expectNoChange(db, async () => expectError(await mutate(base, "auth.register", big), 413, "PAYLOAD_TOO_LARGE"));
  });

  it("refuses a 2 MB chunked body (no content-length) with 413", async () => {
    const big = new TextEncoder().encode(JSON.stringify({ json: { ...newAccount(), name: "x".repeat(2 * 1024 * 1024) } }));
    await expectNoChange(db, async () => {
      const res = await fetch(`${base}/trpc/auth.register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: new ReadableStream({
          start(controller) {
            for (let i = 0; i < big.length; i += 64 * 1024) controller.enqueue(big.subarray(i, i + 64 * 1024));
            controller.close();
          },
        }),
        duplex: "half",
      } as RequestInit).catch((error: unknown) => error);
      // The server may answer and close before the client has sent everything.
      if (res instanceof Response) expect(res.status).toBe(413);
    });
  });

  it("refuses a batch of 11 calls with 400 and runs none of them", async () => {
    const paths = Array(11).fill("auth.register").join(",");
    const inputs = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [i, { json: newAccount() }]));
    await expectNoChange(db, async () => {
      const res = await mutate(base, `${paths}?batch=1`, JSON.stringify(inputs));
      expect(res.status).toBe(400);
      const errors = Array.isArray(res.body) ? res.body.map((r: any) => r.error.json.data.appCode) : [res.body.error.json.data.appCode];
      expect(new Set(errors)).toEqual(new Set(["VALIDATION_FAILED"]));
    });
  });

  it("refuses login via GET with 405 METHOD_NOT_SUPPORTED", async () => {
    await expectNoChange(db, async () =>
      expectError(await query(base, "auth.login", { email: account.email, password: account.password }), 405, "METHOD_NOT_SUPPORTED"),
    );
  });

  it("refuses register, logout and every other mutation via GET with 405", async () => {
    await expectNoChange(db, async () => {
      expectError(await query(base, "auth.register", newAccount()), 405, "METHOD_NOT_SUPPORTED");
      expectError(await query(base, "auth.logout", undefined, { token: auth.accessToken }), 405, "METHOD_NOT_SUPPORTED");
      expectError(await query(base, "auth.deleteAccount", { password: account.password }, { token: auth.accessToken }), 405, "METHOD_NOT_SUPPORTED");
    });
    expect(dataOf(await query(base, "auth.me", undefined, { token: auth.accessToken })).id).toBe(auth.user.id);
  });
});
