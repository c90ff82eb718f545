/** The protected middleware refuses every token it did not issue for a live session (RFC 8725). */
import jwt from "jsonwebtoken";
import { generateKeyPairSync } from "node:crypto";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../server/db/database.ts";
import type { Services } from "../server/services.ts";
import { callerFor, newAccount } from "./helpers/caller.ts";
import { openTestDatabase, resetDatabase } from "./helpers/database.ts";
import { expectTRPCError } from "./helpers/errors.ts";
import { b64, hs256 } from "./helpers/jwt.ts";
import { TEST_SECRET, TestClock, testServices } from "./helpers/services.ts";

let db: Database;
let services: Services;
let clock: TestClock;
let auth: { accessToken: string; refreshToken: string; user: { id: string } };
let claims: { sub: string; sid: string; iat: number; exp: number };


beforeAll(async () => {
  db = await openTestDatabase();
});

beforeEach(async () => {
  await resetDatabase(db);
  clock = new TestClock();
  services = await testServices(db, { clock });
  auth = await callerFor(services).auth.register(newAccount());
  claims = jwt.decode(auth.accessToken) as typeof claims;
});

function me(token: string) {
  return callerFor(services, { token }).auth.me();
}

describe("access tokens", () => {
  it("carries sub, sid, roles, iat, exp, iss and aud, signed HS256", () => {
    const decoded = jwt.decode(auth.accessToken, { complete: true })!;
    expect(decoded.header).toEqual({ alg: "HS256", typ: "JWT" });
    expect(decoded.payload).toEqual({
      sub: auth.user.id,
      sid: expect.any(String),
      roles: [],
      iat: expect.any(Number),
      exp: (decoded.payload as typeof claims).iat + 900,
      iss: "gatehouse",
      aud: "gatehouse",
    });
  });

  it("accepts its own token", async () => {
    expect((await me(auth.accessToken)).id).toBe(auth.user.id);
  });

  it("refuses a token after exp", async () => {
    clock.advance(901 + 5);
    await expectTRPCError(me(auth.accessToken), "UNAUTHORIZED", "TOKEN_EXPIRED");
  });

  it("refuses alg: none", async () => {
    const token = `${b64({ alg: "none", typ: "JWT" })}.${b64({ ...claims, iss: "gatehouse", aud: "gatehouse" })}.`;
    await expectTRPCError(me(token), "UNAUTHORIZED", "TOKEN_INVALID");
  });

  it("refuses another HMAC algorithm with the right key", async () => {
    const token = jwt.sign({ ...claims }, TEST_SECRET, { algorithm: "HS512" });
    await expectTRPCError(me(token), "UNAUTHORIZED", "TOKEN_INVALID");
  });

  it("refuses an RS256 token", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const token = jwt.sign({ ...claims }, privateKey, { algorithm: "RS256" });
    await expectTRPCError(me(token), "UNAUTHORIZED", "TOKEN_INVALID");
  });

  it("refuses a token signed with another key", async () => {
    const token = hs256({ alg: "HS256", typ: "JWT" }, { ...claims, iss: "gatehouse", aud: "gatehouse" }, "another-secret-that-is-also-32-bytes-long");
    await expectTRPCError(me(token), "UNAUTHORIZED", "TOKEN_INVALID");
  });

  it("refuses a tampered payload", async () => {
    const [header, , signature] = auth.accessToken.split(".");
    const other = await callerFor(services).auth.register(newAccount());
    const forged = `${header}.${b64({ ...claims, sub: other.user.id, iss: "gatehouse", aud: "gatehouse" })}.${signature}`;
    await expectTRPCError(me(forged), "UNAUTHORIZED", "TOKEN_INVALID");
  });

  it("refuses a wrong audience or issuer", async () => {
    for (const extra of [{ iss: "gatehouse", aud: "other" }, { iss: "evil", aud: "gatehouse" }]) {
      await expectTRPCError(me(hs256({ alg: "HS256", typ: "JWT" }, { ...claims, ...extra })), "UNAUTHORIZED", "TOKEN_INVALID");
    }
  });

  it("refuses a token without exp", async () => {
    const { exp: _exp, ...rest } = claims;
    await expectTRPCError(me(hs256({ alg: "HS256", typ: "JWT" }, { ...rest, iss: "gatehouse", aud: "gatehouse" })), "UNAUTHORIZED", "TOKEN_INVALID");
  });

  it("refuses an iat in the future and a lifetime longer than issued", async () => {
    const now = Math.floor(clock.now().getTime() / 1000);
    const future = { ...claims, iat: now + 3600, exp: now + 4000, iss: "gatehouse", aud: "gatehouse" };
    await expectTRPCError(me(hs256({ alg: "HS256", typ: "JWT" }, future)), "UNAUTHORIZED", "TOKEN_INVALID");
    const long = { ...claims, iat: now, exp: now + 86_400 * 365, iss: "gatehouse", aud: "gatehouse" };
    await expectTRPCError(me(hs256({ alg: "HS256", typ: "JWT" }, long)), "UNAUTHORIZED", "TOKEN_INVALID");
  });

  it("ignores kid, jku and jwk headers", async () => {
    const header = { alg: "HS256", typ: "JWT", kid: "../../dev/null", jku: "http://127.0.0.1:1/jwks", jwk: { kty: "oct", k: "AA" } };
    const token = hs256(header, { ...claims, iss: "gatehouse", aud: "gatehouse" });
    expect((await me(token)).id).toBe(auth.user.id);
    const forged = hs256(header, { ...claims, iss: "gatehouse", aud: "gatehouse" }, "AA");
    await expectTRPCError(me(forged), "UNAUTHORIZED", "TOKEN_INVALID");
  });

  it("refuses a refresh token used as an access token", async () => {
    await expectTRPCError(me(auth.refreshToken), "UNAUTHORIZED", "TOKEN_INVALID");
  });

  it("refuses a valid signature on a session id that does not exist", async () => {
    const token = hs256({ alg: "HS256", typ: "JWT" }, { ...claims, sid: crypto.randomUUID(), iss: "gatehouse", aud: "gatehouse" });
    await expectTRPCError(me(token), "UNAUTHORIZED", "SESSION_REVOKED");
  });

  it("refuses the token of a deleted user", async () => {
    await db.prisma.user.delete({ where: { id: auth.user.id } });
    await expectTRPCError(me(auth.accessToken), "UNAUTHORIZED", "SESSION_REVOKED");
  });
});

describe("Authorization header", () => {
  it.each([
    { name: "missing", authorization: undefined, appCode: "TOKEN_MISSING" },
    { name: "empty", authorization: "", appCode: "TOKEN_MISSING" },
    { name: "scheme only", authorization: "Bearer", appCode: "TOKEN_MISSING" },
    { name: "Basic", authorization: "Basic dXNlcjpwYXNz", appCode: "TOKEN_MISSING" },
    { name: "two tokens", authorization: "Bearer a.b.c d.e.f", appCode: "TOKEN_INVALID" },
    { name: "10 KB token", authorization: `Bearer ${"a".repeat(10_240)}`, appCode: "TOKEN_INVALID" },
    { name: "garbage", authorization: "Bearer not-a-jwt", appCode: "TOKEN_INVALID" },
  ] as const)("$name → $appCode", async ({ authorization, appCode }) => {
    await expectTRPCError(callerFor(services, { authorization }).auth.me(), "UNAUTHORIZED", appCode);
  });

  it("matches the scheme case-insensitively", async () => {
    for (const scheme of ["bearer", "BEARER", "BeArEr"]) {
      const user = await callerFor(services, { authorization: `${scheme} ${auth.accessToken}` }).auth.me();
      expect(user.id).toBe(auth.user.id);
    }
  });
});
