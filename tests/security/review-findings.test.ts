/**
 * Regressions of the security review (ASVS 5.0 V6, V7, V9, V13, V16): each
 * `describe` is one finding, replayed as the review reproduced it, on the
 * database the suite runs on (PGlite, or PostgreSQL with TEST_DATABASE_URL).
 * Mail throttling and the security log have their own files
 * (tests/mail-throttle.test.ts, tests/security-log.test.ts).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../../server/db/database.ts";
import { openDatabase } from "../../server/db/database.ts";
import { createMailer } from "../../server/mail/mailer.ts";
import type { MemoryOutbox } from "../../server/mail/outbox.ts";
import { bcryptCostOf } from "../../server/passwords/hasher.ts";
import { prevailingCost } from "../../server/passwords/prevailing-cost.ts";
import { developmentSecret } from "../../server/secrets/development-secret.ts";
import { boundedMemoryLimiter, memoryKeyCount } from "../../server/limits/bounded-memory.ts";
import { clientIpResolver } from "../../server/trust-proxy.ts";
import type { Services } from "../../server/services.ts";
import { UNDECODABLE_INPUT_MESSAGE } from "../../server/trpc.ts";
import { callerFor, newAccount, signedIn } from "../helpers/caller.ts";
import { onPostgres, openTestDatabase, resetDatabase, silentLog } from "../helpers/database.ts";
import { expectTRPCError } from "../helpers/errors.ts";
import { dataOf, expectError, mutate, query } from "../helpers/http.ts";
import { startTestServer } from "../helpers/http-server.ts";
import { captureLog } from "../helpers/log.ts";
import { testConfig, testServices } from "../helpers/services.ts";

let db: Database;

beforeAll(async () => {
  db = await openTestDatabase();
});

beforeEach(async () => {
  await resetDatabase(db);
});

/** The token of the newest mail to `email` whose link goes to `path`. */
function mailedToken(services: Services, email: string, path: "/reset-password" | "/verify-email"): string {
  const messages = (services.mailer as MemoryOutbox).messages.filter((m) => m.to === email && m.link.includes(path));
  expect(messages.length, `a ${path} mail to ${email}`).toBeGreaterThan(0);
  return decodeURIComponent(new URL(messages.at(-1)!.link).searchParams.get("token")!);
}

/** Registers an account (which mails a verification link) and asks for a reset link; both are outstanding. */
async function accountWithOutstandingLinks(services: Services) {
  const account = newAccount();
  const auth = await callerFor(services).auth.register(account);
  await callerFor(services).auth.requestPasswordReset({ email: account.email });
  await services.background.drain();
  return {
    account,
    auth,
    resetToken: mailedToken(services, account.email, "/reset-password"),
    verificationToken: mailedToken(services, account.email, "/verify-email"),
  };
}

async function outstandingTokens(userId: string): Promise<number> {
  return db.prisma.oneTimeToken.count({ where: { userId, usedAt: null } });
}

describe(`review 1: tokens die with the password (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  let services: Services;
  beforeAll(async () => {
    services = await testServices(db);
  });

  it("a reset link requested before a password change is refused after it, and the attacker's password does not work", async () => {
    const { account, auth, resetToken, verificationToken } = await accountWithOutstandingLinks(services);
    const me = callerFor(services, { token: auth.accessToken });
    await me.auth.changePassword({ currentPassword: account.password, newPassword: "a brand new passphrase 1" });
    expect(await outstandingTokens(auth.user.id)).toBe(0);
    const attacker = "attacker chosen passphrase";
    await expectTRPCError(callerFor(services).auth.resetPassword({ token: resetToken, newPassword: attacker }), "BAD_REQUEST", "RESET_TOKEN_INVALID");
    await expectTRPCError(callerFor(services).auth.verifyEmail({ token: verificationToken }), "BAD_REQUEST", "VERIFICATION_TOKEN_INVALID");
    await expectTRPCError(callerFor(services).auth.login({ email: account.email, password: attacker }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    expect(signedIn(await callerFor(services).auth.login({ email: account.email, password: "a brand new passphrase 1" })).user.id).toBe(auth.user.id);
  });

  it("a password reset retires the user's verification link (and any other reset link)", async () => {
    const { auth, resetToken, verificationToken } = await accountWithOutstandingLinks(services);
    await callerFor(services).auth.resetPassword({ token: resetToken, newPassword: "reset to this passphrase" });
    expect(await outstandingTokens(auth.user.id)).toBe(0);
    await expectTRPCError(callerFor(services).auth.verifyEmail({ token: verificationToken }), "BAD_REQUEST", "VERIFICATION_TOKEN_INVALID");
  });

  it("logoutAll retires every outstanding reset and verification link", async () => {
    const { auth, resetToken, verificationToken } = await accountWithOutstandingLinks(services);
    const { revoked } = await callerFor(services, { token: auth.accessToken }).auth.logoutAll();
    expect(revoked).toBe(1);
    expect(await outstandingTokens(auth.user.id)).toBe(0);
    await expectTRPCError(callerFor(services).auth.resetPassword({ token: resetToken, newPassword: "attacker chosen passphrase" }), "BAD_REQUEST", "RESET_TOKEN_INVALID");
    await expectTRPCError(callerFor(services).auth.verifyEmail({ token: verificationToken }), "BAD_REQUEST", "VERIFICATION_TOKEN_INVALID");
  });

  it("account deletion retires every outstanding reset and verification link", async () => {
    const { account, auth, resetToken, verificationToken } = await accountWithOutstandingLinks(services);
    await callerFor(services, { token: auth.accessToken }).auth.deleteAccount({ password: account.password });
    expect(await db.prisma.oneTimeToken.count()).toBe(0);
    await expectTRPCError(callerFor(services).auth.resetPassword({ token: resetToken, newPassword: "attacker chosen passphrase" }), "BAD_REQUEST", "RESET_TOKEN_INVALID");
    await expectTRPCError(callerFor(services).auth.verifyEmail({ token: verificationToken }), "BAD_REQUEST", "VERIFICATION_TOKEN_INVALID");
  });
});

describe("review 2: a client can never choose its own IP", () => {
  const WRONG = { email: "victim@example.com", password: "not the password at all" };

  it("with TRUST_PROXY=1 and a limit of 5/min, 12 logins with made-up X-Forwarded-For heads give 5 answers and 7 RATE_LIMITED", async () => {
    const services = await testServices(db, { env: { TRUST_PROXY: "1", AUTH_RATE_LIMIT_PER_MINUTE: "5" } });
    const { url } = await startTestServer(services);
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) {
      // The client invents the head; the proxy (one hop) appends the address it saw.
      const res = await mutate(url, "auth.login", WRONG, { headers: { "x-forwarded-for": `10.${i}.${i}.${i}, 198.51.100.9` } });
      codes.push(res.body.error.json.data.appCode);
    }
    expect(codes).toEqual([...Array(5).fill("INVALID_CREDENTIALS"), ...Array(7).fill("RATE_LIMITED")]);
  });

  it("records on the session the address the trusted proxy saw, not the one the client wrote", async () => {
    const services = await testServices(db, { env: { TRUST_PROXY: "127.0.0.1/32" } });
    const { url } = await startTestServer(services);
    // The test connects from 127.0.0.1, a trusted proxy, which says it saw 203.0.113.5.
    const auth = dataOf(await mutate(url, "auth.register", newAccount(), { headers: { "x-forwarded-for": "192.0.2.66, 203.0.113.5" } }));
    const sessions = dataOf(await query(url, "auth.sessions", undefined, { token: auth.accessToken }));
    expect(sessions.map((s: { ip: string }) => s.ip)).toEqual(["203.0.113.5"]);
  });

  it("reads the client from the right, skipping trusted hops (CIDR list) or counting hops", () => {
    const cidrs = clientIpResolver({ kind: "cidrs", cidrs: ["10.0.0.0/8", "127.0.0.1/32"] });
    expect(cidrs("10.1.2.3", "1.1.1.1, 203.0.113.7, 10.9.9.9")).toBe("203.0.113.7");
    expect(cidrs("10.1.2.3", "203.0.113.7:4567")).toBe("203.0.113.7");
    expect(cidrs("10.1.2.3", "[2001:db8::1]:443, 10.0.0.2")).toBe("2001:db8::1");
    // An untrusted peer is the client, whatever it writes.
    expect(cidrs("198.51.100.1", "203.0.113.7")).toBe("198.51.100.1");
    // Only trusted hops: the leftmost one is as far as we see.
    expect(cidrs("10.1.2.3", "10.0.0.5, 10.0.0.6")).toBe("10.0.0.5");
    // Garbage written by the client beyond the trusted hops stops the walk at the last trusted address.
    expect(cidrs("10.1.2.3", "not-an-ip")).toBe("10.1.2.3");
    const hops = clientIpResolver({ kind: "hops", hops: 2 });
    expect(hops("10.0.0.1", "6.6.6.6, 203.0.113.8, 10.0.0.9")).toBe("203.0.113.8");
    expect(hops("10.0.0.1", "203.0.113.8")).toBe("203.0.113.8");
    const none = clientIpResolver({ kind: "none" });
    expect(none("198.51.100.1", "203.0.113.7")).toBe("198.51.100.1");
  });

  it("keeps an in-memory limiter's keys bounded whatever keys arrive, and still counts", async () => {
    const limiter = boundedMemoryLimiter({ points: 2, duration: 60 }, 1_000);
    for (let i = 0; i < 5_000; i++) await limiter.consume(`198.51.${i >> 8}.${i & 255}`);
    expect(memoryKeyCount(limiter)).toBe(1_000);
    await limiter.consume("203.0.113.1");
    await limiter.consume("203.0.113.1");
    await expect(limiter.consume("203.0.113.1")).rejects.toMatchObject({ remainingPoints: 0 });
    expect(memoryKeyCount(limiter)).toBe(1_000);
  });
});

describe("review 5: files under DATA_DIR are owner-only", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "gatehouse-modes-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const mode = (path: string) => statSync(path).mode & 0o777;

  it("creates outbox.jsonl 0600 in a DATA_DIR created 0700", async () => {
    const dataDir = join(root, "outbox", "data");
    const mailer = createMailer(testConfig({ NODE_ENV: "development", DATA_DIR: dataDir }), silentLog);
    await mailer.send({ to: "a@example.com", subject: "s", text: "t", html: "h", link: "http://localhost/x" });
    expect([mode(join(root, "outbox")), mode(dataDir), mode(join(dataDir, "outbox.jsonl"))]).toEqual([0o700, 0o700, 0o600]);
  });

  // Opens an embedded database of its own: ~3 s on a quiet machine, far more on a busy one.
  it("creates the development secrets 0600 and the embedded database's files 0600 in 0700 directories", { timeout: 180_000 }, async () => {
    const dataDir = join(root, "db", "data");
    developmentSecret({ dataDir }, silentLog, "JWT_SECRET", "jwt-secret");
    const embedded = await openDatabase({ databaseUrl: undefined, dataDir, log: silentLog });
    await embedded.close();
    const loose: string[] = [];
    const walk = (dir: string) => {
      if (mode(dir) !== 0o700) loose.push(`${dir} ${mode(dir).toString(8)}`);
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (mode(path) !== 0o600) loose.push(`${path} ${mode(path).toString(8)}`);
      }
    };
    walk(dataDir);
    expect(loose).toEqual([]);
    expect(mode(join(dataDir, "jwt-secret"))).toBe(0o600);
  });
});

describe(`review 7: hashes follow BCRYPT_COST (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("a successful login re-hashes a cost-4 password at the configured cost 5; a failed one does not", async () => {
    const account = newAccount();
    const old = await testServices(db, { env: { BCRYPT_COST: "4" } });
    const { user } = await callerFor(old).auth.register(account);
    const hashOf = async () => (await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash ?? "";
    expect(bcryptCostOf(await hashOf())).toBe(4);

    const raised = await testServices(db, { env: { BCRYPT_COST: "5" } });
    await expectTRPCError(callerFor(raised).auth.login({ ...account, password: "wrong password here" }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    await raised.background.drain();
    expect(bcryptCostOf(await hashOf())).toBe(4);
    await callerFor(raised).auth.login(account);
    await raised.background.drain();
    expect(bcryptCostOf(await hashOf())).toBe(5);
    // The new hash still verifies the same password.
    expect(signedIn(await callerFor(raised).auth.login(account)).user.id).toBe(user.id);
  });

  it("the dummy verification of unknown emails uses the cost most stored hashes have (users at costs 4 and 5)", async () => {
    const at4 = await testServices(db, { env: { BCRYPT_COST: "4" } });
    const at5 = await testServices(db, { env: { BCRYPT_COST: "5" } });
    for (let i = 0; i < 3; i++) await callerFor(at4).auth.register(newAccount());
    await callerFor(at5).auth.register(newAccount());
    expect(await prevailingCost(db.query)).toBe(4);
    // A server configured at 5 starts with most hashes still at 4: its dummy spends cost 4.
    const server = await testServices(db, { env: { BCRYPT_COST: "5" } });
    expect([server.passwords.cost, server.passwords.dummyCost]).toEqual([5, 4]);
    for (let i = 0; i < 4; i++) await callerFor(at5).auth.register(newAccount());
    expect(await prevailingCost(db.query)).toBe(5);
    const later = await testServices(db, { env: { BCRYPT_COST: "5" } });
    expect(later.passwords.dummyCost).toBe(5);
    await expectTRPCError(callerFor(later).auth.login({ email: "nobody-here@example.com", password: "whatever it is" }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
  });

  it("with no stored hash yet, the dummy uses the configured cost", async () => {
    expect(await prevailingCost(db.query)).toBeNull();
    const services = await testServices(db, { env: { BCRYPT_COST: "5" } });
    expect(services.passwords.dummyCost).toBe(5);
  });
});

describe("review 9: production says loudly that it runs on PGlite", () => {
  it("logs a warning naming PGlite and DATABASE_URL when NODE_ENV=production runs on the embedded database", { timeout: 180_000 }, async () => {
    const captured = captureLog("warn");
    // PGlite whichever database the suite runs on.
    const embedded = await openDatabase({ databaseUrl: undefined, dataDir: ":memory:", log: silentLog });
    afterAll(() => embedded.close());
    const services = await testServices(embedded, { env: { NODE_ENV: "production", BCRYPT_COST: "10" }, log: captured.log });
    const warning = captured.lines().find((l) => /EMBEDDED DATABASE \(PGlite\)/.test(l.msg ?? ""));
    expect(warning?.msg).toMatch(/Set DATABASE_URL/);
    await services.close();
  });
});

describe("review 10: no decoder text in answers", () => {
  let url: string;
  beforeAll(async () => {
    // Development, where other errors may show details: decoder failures still do not.
    const services = await testServices(db, { env: { NODE_ENV: "development" } });
    url = (await startTestServer(services)).url;
  });

  const deep = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

  it.each([
    ["a superjson BigInt of the caller's text", JSON.stringify({ json: "not a number <script>", meta: { values: ["bigint"] } })],
    ["a superjson path deep enough to overflow the stack", `{"json":{},"meta":{"values":{"a":${deep(5000)}}}}`],
    ["a body that is not JSON", "{not json"],
    ["a superjson class the server does not know", JSON.stringify({ json: {}, meta: { values: [["class", "Evil"]] } })],
  ])("answers %s with VALIDATION_FAILED and one fixed message", async (_what, body) => {
    for (const path of ["auth.login", "auth.requestPasswordReset"]) {
      const res = await mutate(url, path, body);
      const error = expectError(res, 400, "VALIDATION_FAILED");
      expect(error.message).toBe(UNDECODABLE_INPUT_MESSAGE);
      expect(res.text).not.toMatch(/BigInt|call stack|not json|Unexpected|SyntaxError|script|Evil|superjson/i);
    }
  });
});
