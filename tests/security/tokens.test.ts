/**
 * Attacks on access and refresh tokens over real HTTP (RFC 8725; OWASP JWT
 * Cheat Sheet). Each case asserts the exact status and appCode, and that the
 * database did not change. tests/access-token.test.ts covers the same rules
 * through createCaller.
 */
import jwt from "jsonwebtoken";
import { generateKeyPairSync } from "node:crypto";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { appRouter } from "../../routers/_app.ts";
import type { Database } from "../../server/db/database.ts";
import type { Services } from "../../server/services.ts";
import { newAccount } from "../helpers/caller.ts";
import { openTestDatabase, resetDatabase } from "../helpers/database.ts";
import { dataOf, expectError, mutate, query, registerOverHttp, type CallOptions } from "../helpers/http.ts";
import { startTestServer } from "../helpers/http-server.ts";
import { HS256_HEADER, OUR_ISS_AUD, hs256, unsigned } from "../helpers/jwt.ts";
import { expectNoChange, rowCounts } from "../helpers/rows.ts";
import { TEST_SECRET, testServices } from "../helpers/services.ts";

let db: Database;
let services: Services;
let base: string;
let account: ReturnType<typeof newAccount>;
let auth: Awaited<ReturnType<typeof registerOverHttp>>;
let claims: { sub: string; sid: string; iat: number; exp: number };

const TTL = 15 * 60;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const hasProcedure = (path: string) => path in (appRouter._def.procedures as Record<string, unknown>);

beforeAll(async () => {
  db = await openTestDatabase();
  // A replay here is reuse at once: the grace window (REFRESH_REUSE_GRACE) has
  // its own tests in tests/refresh-grace.test.ts.
  services = await testServices(db, { env: { REFRESH_REUSE_GRACE: "0" } });
  base = (await startTestServer(services)).url;
});

beforeEach(async () => {
  await resetDatabase(db);
  account = newAccount();
  auth = await registerOverHttp(base, account);
  claims = jwt.decode(auth.accessToken) as typeof claims;
});

/** `auth.me` with the given options must answer 401 with this appCode and change nothing. */
async function refusedMe(appCode: "TOKEN_MISSING" | "TOKEN_INVALID" | "TOKEN_EXPIRED" | "SESSION_REVOKED", options: CallOptions) {
  await expectNoChange(db, async () => expectError(await query(base, "auth.me", undefined, options), 401, appCode));
}

/** A token over our claims with some changed, signed with our key. */
function forged(changes: Record<string, unknown>, header: object = HS256_HEADER, secret = TEST_SECRET): string {
  const payload = { ...claims, ...OUR_ISS_AUD, ...changes };
  for (const [key, value] of Object.entries(payload)) if (value === undefined) delete (payload as Record<string, unknown>)[key];
  return hs256(header, payload, secret);
}

describe("forged access tokens", () => {
  it("accepts the genuine token (control)", async () => {
    expect(dataOf(await query(base, "auth.me", undefined, { token: auth.accessToken })).id).toBe(auth.user.id);
  });

  it("refuses alg: none", async () => {
    await refusedMe("TOKEN_INVALID", { token: unsigned({ ...claims, ...OUR_ISS_AUD }) });
  });

  it("refuses alg: none with the original signature kept", async () => {
    const [, payload, signature] = auth.accessToken.split(".");
    const header = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    await refusedMe("TOKEN_INVALID", { token: `${header}.${payload}.${signature}` });
  });

  it("refuses HS512 signed with the right key", async () => {
    await refusedMe("TOKEN_INVALID", { token: jwt.sign({ ...claims, ...OUR_ISS_AUD }, TEST_SECRET, { algorithm: "HS512" }) });
  });

  it("refuses RS256 signed with an attacker's key pair", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    await refusedMe("TOKEN_INVALID", { token: jwt.sign({ ...claims, ...OUR_ISS_AUD }, privateKey, { algorithm: "RS256" }) });
  });

  it("refuses an RS256 header over an HMAC signature (algorithm confusion)", async () => {
    await refusedMe("TOKEN_INVALID", { token: forged({}, { alg: "RS256", typ: "JWT" }) });
  });

  it("refuses a token signed with another key", async () => {
    await refusedMe("TOKEN_INVALID", { token: forged({}, HS256_HEADER, "another-secret-that-is-also-32-bytes-long") });
  });

  it("refuses a tampered payload (sub of another user, signature kept)", async () => {
    const other = await registerOverHttp(base, newAccount());
    const [header, , signature] = auth.accessToken.split(".");
    const payload = Buffer.from(JSON.stringify({ ...claims, sub: other.user.id, ...OUR_ISS_AUD })).toString("base64url");
    await refusedMe("TOKEN_INVALID", { token: `${header}.${payload}.${signature}` });
  });

  it("refuses a token without iat", async () => {
    await refusedMe("TOKEN_INVALID", { token: forged({ iat: undefined }) });
  });

  it("refuses a token without exp", async () => {
    await refusedMe("TOKEN_INVALID", { token: forged({ exp: undefined }) });
  });

  it("refuses a token whose exp has passed", async () => {
    const iat = nowSeconds() - TTL - 60;
    await refusedMe("TOKEN_EXPIRED", { token: forged({ iat, exp: iat + TTL }) });
  });

  it("refuses an iat in the past with a lifetime longer than issued", async () => {
    await refusedMe("TOKEN_INVALID", { token: forged({ iat: nowSeconds() - 86_400, exp: nowSeconds() + 60 }) });
  });

  it("refuses an iat far in the future", async () => {
    const iat = nowSeconds() + 10 * 365 * 86_400;
    await refusedMe("TOKEN_INVALID", { token: forged({ iat, exp: iat + TTL }) });
  });

  it("refuses an exp far in the future", async () => {
    await refusedMe("TOKEN_INVALID", { token: forged({ iat: nowSeconds(), exp: nowSeconds() + 10 * 365 * 86_400 }) });
  });

  it("refuses a non-numeric exp", async () => {
    await refusedMe("TOKEN_INVALID", { token: forged({ exp: "9999999999" }) });
  });

  it("refuses a wrong issuer", async () => {
    await refusedMe("TOKEN_INVALID", { token: forged({ iss: "evil" }) });
  });

  it("refuses a wrong audience", async () => {
    await refusedMe("TOKEN_INVALID", { token: forged({ aud: "another-service" }) });
  });

  it("refuses a refresh token used as an access token", async () => {
    await refusedMe("TOKEN_INVALID", { token: auth.refreshToken });
  });

  it("ignores kid, jku and jwk headers: a token signed with the embedded key is refused", async () => {
    const header = { ...HS256_HEADER, kid: "../../../../dev/null", jku: "http://127.0.0.1:1/jwks.json", jwk: { kty: "oct", k: "AA" } };
    // Signed with our key, the extra headers change nothing...
    expect(dataOf(await query(base, "auth.me", undefined, { token: forged({}, header) })).id).toBe(auth.user.id);
    // ...and a token signed with the key they point at (empty / "AA") is refused.
    await refusedMe("TOKEN_INVALID", { token: forged({}, header, "") });
    await refusedMe("TOKEN_INVALID", { token: forged({}, header, Buffer.from("AA", "base64url").toString("latin1")) });
  });

  it("refuses a valid signature for a session that does not exist", async () => {
    await refusedMe("SESSION_REVOKED", { token: forged({ sid: crypto.randomUUID() }) });
  });

  it("refuses a valid signature naming another user's session", async () => {
    const other = await registerOverHttp(base, newAccount());
    const otherSid = (jwt.decode(other.accessToken) as typeof claims).sid;
    await refusedMe("SESSION_REVOKED", { token: forged({ sid: otherSid }) });
  });
});

describe("malformed Authorization headers", () => {
  it.each([
    ["no header", undefined, "TOKEN_MISSING"],
    ["an empty header", "", "TOKEN_MISSING"],
    ["the scheme alone", "Bearer", "TOKEN_MISSING"],
    ["the scheme and spaces", "Bearer    ", "TOKEN_MISSING"],
    ["Basic credentials", "Basic x", "TOKEN_MISSING"],
    ["another scheme with our token", "Token {token}", "TOKEN_MISSING"],
    ["two tokens", "Bearer {token} {token}", "TOKEN_INVALID"],
    ["a token with a comma list", "Bearer {token},{token}", "TOKEN_INVALID"],
    ["a 10 KB token", `Bearer ${"a".repeat(10 * 1024)}`, "TOKEN_INVALID"],
    ["a token that is not a JWT", "Bearer not-a-jwt", "TOKEN_INVALID"],
    ["a JWT with a fourth segment", "Bearer {token}.extra", "TOKEN_INVALID"],
  ] as const)("%s → %s", async (_name, header, appCode) => {
    const options: CallOptions =
      header === undefined ? {} : { headers: { authorization: header.replaceAll("{token}", auth.accessToken) } };
    await refusedMe(appCode, options);
  });

  it("accepts the scheme in any case (control)", async () => {
    for (const scheme of ["bearer", "BEARER", "BeArEr"]) {
      const answer = await query(base, "auth.me", undefined, { headers: { authorization: `${scheme} ${auth.accessToken}` } });
      expect(dataOf(answer).id).toBe(auth.user.id);
    }
  });
});

describe("tokens of sessions that ended", () => {
  it("refuses the token of a deleted user", async () => {
    await db.prisma.user.delete({ where: { id: auth.user.id } });
    await refusedMe("SESSION_REVOKED", { token: auth.accessToken });
  });

  it("refuses the token after logout, at once", async () => {
    dataOf(await mutate(base, "auth.logout", undefined, { token: auth.accessToken }));
    await refusedMe("SESSION_REVOKED", { token: auth.accessToken });
    expectError(await mutate(base, "auth.refresh", { refreshToken: auth.refreshToken }), 401, "REFRESH_TOKEN_INVALID");
  });

  it("refuses every session's token after logoutAll", async () => {
    const second = dataOf(await mutate(base, "auth.login", { email: account.email, password: account.password }));
    expect(dataOf(await mutate(base, "auth.logoutAll", undefined, { token: second.accessToken }))).toEqual({ revoked: 2 });
    await refusedMe("SESSION_REVOKED", { token: auth.accessToken });
    await refusedMe("SESSION_REVOKED", { token: second.accessToken });
  });

  it("revokes the whole session when a used refresh token is presented again", async () => {
    const rotated = dataOf(await mutate(base, "auth.refresh", { refreshToken: auth.refreshToken }));
    expect(dataOf(await query(base, "auth.me", undefined, { token: rotated.accessToken })).id).toBe(auth.user.id);

    const before = await rowCounts(db);
    expectError(await mutate(base, "auth.refresh", { refreshToken: auth.refreshToken }), 401, "REFRESH_TOKEN_REUSED");
    // Exactly one change: the session is revoked (and the reuse recorded).
    expect(await rowCounts(db)).toEqual({ ...before, liveSessions: before.liveSessions - 1, authEvents: before.authEvents + 1 });

    // Every token of the family is dead: the newest refresh token and both access tokens.
    expectError(await mutate(base, "auth.refresh", { refreshToken: rotated.refreshToken }), 401, "REFRESH_TOKEN_INVALID");
    await refusedMe("SESSION_REVOKED", { token: rotated.accessToken });
    await refusedMe("SESSION_REVOKED", { token: auth.accessToken });
  });

  it("refuses a refresh token with a guessed secret without revoking the session", async () => {
    const [id] = auth.refreshToken.split(".");
    await expectNoChange(db, async () =>
      expectError(await mutate(base, "auth.refresh", { refreshToken: `${id}.${"A".repeat(43)}` }), 401, "REFRESH_TOKEN_INVALID"),
    );
    expect(dataOf(await query(base, "auth.me", undefined, { token: auth.accessToken })).id).toBe(auth.user.id);
  });

  it.skipIf(!hasProcedure("auth.changePassword"))("refuses the old tokens after a password change", async () => {
    const changed = dataOf(
      await mutate(base, "auth.changePassword", { currentPassword: account.password, newPassword: "a brand new passphrase 42" }, { token: auth.accessToken }),
    );
    await refusedMe("SESSION_REVOKED", { token: auth.accessToken });
    expectError(await mutate(base, "auth.refresh", { refreshToken: auth.refreshToken }), 401, "REFRESH_TOKEN_INVALID");
    expect(dataOf(await query(base, "auth.me", undefined, { token: changed.accessToken })).id).toBe(auth.user.id);
  });

  it.skipIf(!hasProcedure("auth.resetPassword"))("refuses the old tokens after a password reset", async () => {
    dataOf(await mutate(base, "auth.requestPasswordReset", { email: account.email }));
    const token = await lastMailedToken(account.email, "/reset-password");
    dataOf(await mutate(base, "auth.resetPassword", { token, newPassword: "a brand new passphrase 42" }));
    await refusedMe("SESSION_REVOKED", { token: auth.accessToken });
    expectError(await mutate(base, "auth.refresh", { refreshToken: auth.refreshToken }), 401, "REFRESH_TOKEN_INVALID");
    // The reset token is single use.
    await expectNoChange(db, async () =>
      expectError(await mutate(base, "auth.resetPassword", { token, newPassword: "yet another passphrase 43" }), 400, "RESET_TOKEN_INVALID"),
    );
  });
});

/** The token in the newest mail to an address whose link has this path (the in-memory outbox of DATA_DIR=:memory:). */
async function lastMailedToken(email: string, pathname: string): Promise<string> {
  const deps = services as unknown as { background?: { drain(): Promise<void> }; mailer?: { messages?: Array<{ to: string; link: string }> } };
  await deps.background?.drain();
  const link = deps.mailer?.messages?.filter((m) => m.to === email && new URL(m.link).pathname === pathname).at(-1)?.link;
  if (!link) throw new Error(`no ${pathname} mail to ${email}`);
  return new URL(link).searchParams.get("token")!;
}
