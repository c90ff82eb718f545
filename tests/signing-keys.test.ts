/**
 * JWT_ALG=ES256/RS256: tokens carry a `kid`, the JWKS publishes the keys, and
 * `jose` (an independent implementation) and `gatehouse/verify` both accept
 * them, before and after a rotation; retired keys, unknown kids and algorithm
 * confusion are refused.
 */
import { createRemoteJWKSet, jwtVerify } from "jose";
import jwt from "jsonwebtoken";
import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerifier, TokenVerificationError } from "gatehouse/verify";
import { addSigningKey } from "../server/keys/rotation.ts";
import { keyTimings } from "../server/keys/keyring.ts";
import { privateKeyContext } from "../server/keys/signing-keys.ts";
import type { Services } from "../server/services.ts";
import type { Database } from "../server/db/database.ts";
import { callerFor, newAccount } from "./helpers/caller.ts";
import { openTestDatabase } from "./helpers/database.ts";
import { expectTRPCError } from "./helpers/errors.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { TestClock, testServices } from "./helpers/services.ts";

const TTL = 900;
const SHARED_KEY = Buffer.alloc(32, 7).toString("base64");
const ISSUER = { issuer: "gatehouse", audience: "gatehouse" };

function headerOf(token: string): { alg: string; kid?: string } {
  return jwt.decode(token, { complete: true })!.header as { alg: string; kid?: string };
}

async function register(services: Services) {
  return callerFor(services).auth.register(newAccount());
}

let db: Database;
/** Services made inside a test, closed after the file. */
const opened: Services[] = [];
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(() => Promise.all(opened.map((s) => s.close())));

describe.each(["ES256", "RS256"] as const)("JWT_ALG=%s", (alg) => {
  let services: Services;
  let base: string;
  let clock: TestClock;

  beforeAll(async () => {
    await db.prisma.signingKey.deleteMany();
    clock = new TestClock();
    services = await testServices(db, { env: { JWT_ALG: alg }, clock });
    afterAll(() => services.close());
    base = (await startTestServer(services)).url;
  });

  it("makes a key at first start, with its private half sealed in the database", async () => {
    const rows = await db.prisma.signingKey.findMany({ where: { alg } });
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.privateKey).not.toContain("PRIVATE KEY");
    expect(services.sealer.open(row.privateKey, privateKeyContext(row.kid))).toContain("-----BEGIN PRIVATE KEY-----");
    expect(() => services.sealer.open(row.privateKey, privateKeyContext("another-kid"))).toThrow();
  });

  it("signs with the key's alg and kid, and serves the public key at /.well-known/jwks.json", async () => {
    const auth = await register(services);
    const [row] = await db.prisma.signingKey.findMany({ where: { alg } });
    expect(headerOf(auth.accessToken)).toEqual({ alg, typ: "JWT", kid: row!.kid });
    const response = await fetch(`${base}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("public, max-age=300");
    const jwks = (await response.json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kid: row!.kid, alg, use: "sig", kty: alg === "ES256" ? "EC" : "RSA" });
    for (const privateMember of ["d", "p", "q", "dp", "dq", "qi"]) expect(jwks.keys[0]).not.toHaveProperty(privateMember);
    expect((await callerFor(services, { token: auth.accessToken }).auth.me()).id).toBe(auth.user.id);
  });

  it("its tokens verify with jose against the JWKS, and with gatehouse/verify, carrying roles", async () => {
    const auth = await register(services);
    const joseKeys = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(auth.accessToken, joseKeys, { ...ISSUER, algorithms: [alg], currentDate: clock.now() });
    expect(protectedHeader.alg).toBe(alg);
    expect(payload).toMatchObject({ sub: auth.user.id, roles: [] });
    const verifier = createVerifier({ ...ISSUER, jwksUrl: `${base}/.well-known/jwks.json`, now: () => clock.now().getTime() });
    expect(await verifier.verify(auth.accessToken)).toMatchObject({ sub: auth.user.id, sid: payload.sid, roles: [], exp: payload.exp });
  });

  it("rotates without downtime: the old key verifies until it retires, the new one signs after activation", async () => {
    const before = await register(services);
    const oldKid = headerOf(before.accessToken).kid!;
    const { activationDelaySeconds } = keyTimings(TTL);
    const rotated = await addSigningKey(services, { alg, activationDelaySeconds, accessTokenTtl: TTL });
    await services.keyring.load();

    // Published at once, so resource servers and instances know it before it signs.
    const published = async () => ((await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect((await published()).sort()).toEqual([oldKid, rotated.kid].sort());
    expect(headerOf((await register(services)).accessToken).kid).toBe(oldKid);

    clock.advance(activationDelaySeconds);
    const after = await register(services);
    expect(headerOf(after.accessToken).kid).toBe(rotated.kid);
    const verifier = createVerifier({ ...ISSUER, jwksUrl: `${base}/.well-known/jwks.json`, now: () => clock.now().getTime() });
    const joseKeys = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
    for (const token of [before.accessToken, after.accessToken]) {
      expect((await jwtVerify(token, joseKeys, { ...ISSUER, currentDate: clock.now() })).payload.sub).toBeTypeOf("string");
      expect((await verifier.verify(token)).sub).toBeTypeOf("string");
    }
    // The old token still works in Gatehouse itself until it expires...
    expect((await callerFor(services, { token: before.accessToken }).auth.me()).id).toBe(before.user.id);

    // ...and once every token it signed has expired, the old key leaves the JWKS and is refused,
    // even for a token that has not expired (signed now with the old private key).
    const oldKey = services.keyring.verifier(oldKid, clock.now())!;
    clock.advance(TTL + 36);
    expect(clock.now() >= rotated.previousRetireAt).toBe(true);
    expect(await published()).toEqual([rotated.kid]);
    const iat = Math.floor(clock.now().getTime() / 1000);
    const claims = { ...(jwt.decode(after.accessToken) as jwt.JwtPayload), iat, exp: iat + 60 };
    const late = jwt.sign(claims, oldKey.privateKey!, { algorithm: alg, keyid: oldKid });
    await expectTRPCError(callerFor(services, { token: late }).auth.me(), "UNAUTHORIZED", "TOKEN_INVALID");
    const sameClaimsNewKey = jwt.sign(claims, services.keyring.signer(clock.now())!.privateKey!, { algorithm: alg, keyid: rotated.kid });
    expect((await callerFor(services, { token: sameClaimsNewKey }).auth.me()).id).toBe(after.user.id);
  });

  it("refuses an unknown kid, an alg other than the key's, and an HS256 token keyed with the public key", async () => {
    const auth = await register(services);
    const { kid } = headerOf(auth.accessToken);
    const claims = jwt.decode(auth.accessToken) as jwt.JwtPayload;
    const other = alg === "ES256" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("rsa", { modulusLength: 2048 });
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const me = (token: string) => callerFor(services, { token }).auth.me();

    await expectTRPCError(me(jwt.sign(claims, other.privateKey, { algorithm: alg, keyid: "not-a-known-kid" })), "UNAUTHORIZED", "TOKEN_INVALID");
    await expectTRPCError(me(jwt.sign(claims, other.privateKey, { algorithm: alg, keyid: kid })), "UNAUTHORIZED", "TOKEN_INVALID");
    const otherAlg = alg === "ES256" ? "RS256" : "PS256";
    await expectTRPCError(me(jwt.sign(claims, rsa.privateKey, { algorithm: otherAlg, keyid: kid })), "UNAUTHORIZED", "TOKEN_INVALID");
    const jwks = services.keyring.jwks(clock.now());
    const publicPem = services.keyring.verifier(kid!, clock.now())!.publicKey.export({ format: "pem", type: "spki" }).toString();
    expect(jwks.keys.length).toBeGreaterThan(0);
    // Algorithm confusion (RFC 8725 section 2.1): the public key used as an HMAC secret.
    const confused = `${Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT", kid })).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
    const { createHmac } = await import("node:crypto");
    const mac = createHmac("sha256", publicPem).update(confused).digest("base64url");
    await expectTRPCError(me(`${confused}.${mac}`), "UNAUTHORIZED", "TOKEN_INVALID");
  });
});

describe("switching algorithms", () => {
  it("HS256 tokens issued before the switch to ES256 keep verifying while JWT_SECRET stays set", async () => {
    const clock = new TestClock();
    const hs = await testServices(db, { clock });
    const es = await testServices(db, { env: { JWT_ALG: "ES256" }, clock });
    opened.push(hs, es);
    const auth = await register(hs);
    expect(headerOf(auth.accessToken).alg).toBe("HS256");
    expect((await callerFor(es, { token: auth.accessToken }).auth.me()).id).toBe(auth.user.id);
    // A new account on the ES256 instance gets an ES256 token.
    const next = await register(es);
    expect(headerOf(next.accessToken).alg).toBe("ES256");
    // And back: an HS256 instance started now accepts ES256 tokens whose key is published.
    const back = await testServices(db, { clock });
    opened.push(back);
    expect((await callerFor(back, { token: next.accessToken }).auth.me()).id).toBe(next.user.id);
  });
});

describe("two instances", () => {
  it("an instance learns of a rotation made elsewhere without a restart, and signs with the new key from its activation", async () => {
    await db.prisma.signingKey.deleteMany();
    // Instances of one deployment share ENCRYPTION_KEY, so each can open the private keys.
    const a = await testServices(db, { env: { JWT_ALG: "ES256", ENCRYPTION_KEY: SHARED_KEY } });
    // The other instance re-reads the keys every 100 ms instead of every 30 s.
    const b = await createServicesWithRefresh(db, 100);
    opened.push(a, b);
    const oldKid = a.keyring.signer(new Date())!.kid;
    expect(b.keyring.signer(new Date())!.kid).toBe(oldKid);

    const rotated = await addSigningKey(a, { alg: "ES256", activationDelaySeconds: 1, accessTokenTtl: TTL });
    const deadline = Date.now() + 3000;
    while (b.keyring.signer(new Date())?.kid !== rotated.kid && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(b.keyring.signer(new Date())!.kid).toBe(rotated.kid);
    expect(Date.now()).toBeGreaterThanOrEqual(rotated.activatesAt.getTime());
    // B verifies tokens of the old key it no longer signs with.
    expect(b.keyring.verifier(oldKid, new Date())).toBeDefined();
  });
});

async function createServicesWithRefresh(database: Database, keyRefreshMs: number): Promise<Services> {
  const { createServices } = await import("../server/services.ts");
  const { testConfig } = await import("./helpers/services.ts");
  const { silentLog } = await import("./helpers/database.ts");
  return createServices(testConfig({ JWT_ALG: "ES256", ENCRYPTION_KEY: SHARED_KEY }), { db: database, log: silentLog, keyRefreshMs });
}

describe("gatehouse/verify", () => {
  let services: Services;
  let base: string;
  let fetches = 0;
  const countingFetch: typeof fetch = (input, init) => {
    fetches++;
    return fetch(input, init);
  };

  beforeAll(async () => {
    await db.prisma.signingKey.deleteMany();
    services = await testServices(db, { env: { JWT_ALG: "ES256" } });
    afterAll(() => services.close());
    base = (await startTestServer(services)).url;
  });

  it("refetches the JWKS on an unknown kid at most once per interval", async () => {
    let now = Date.now();
    const verifier = createVerifier({ ...ISSUER, jwksUrl: `${base}/.well-known/jwks.json`, fetch: countingFetch, refetchIntervalMs: 30_000, now: () => now });
    const auth = await register(services);
    fetches = 0;
    await verifier.verify(auth.accessToken);
    expect(fetches).toBe(1);
    const claims = jwt.decode(auth.accessToken) as jwt.JwtPayload;
    const stranger = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    const forged = (kid: string) => jwt.sign(claims, stranger, { algorithm: "ES256", keyid: kid });
    for (let i = 0; i < 20; i++) await expect(verifier.verify(forged(`unknown-${i}`))).rejects.toMatchObject({ code: "TOKEN_INVALID" });
    expect(fetches).toBe(1);
    now += 30_000;
    await expect(verifier.verify(forged("unknown-after-interval"))).rejects.toThrow(TokenVerificationError);
    expect(fetches).toBe(2);
    // A key rotated in meanwhile is found by that refetch.
    const rotated = await addSigningKey(services, { alg: "ES256", activationDelaySeconds: 0, accessTokenTtl: TTL });
    await services.keyring.load();
    const next = await register(services);
    expect(headerOf(next.accessToken).kid).toBe(rotated.kid);
    now += 30_000;
    expect((await verifier.verify(next.accessToken)).sub).toBe(next.user.id);
    expect(fetches).toBe(3);
  });

  it("answers TOKEN_EXPIRED past exp, TOKEN_INVALID for a changed payload, another issuer, or an HS256 token", async () => {
    const auth = await register(services);
    const exp = (jwt.decode(auth.accessToken) as jwt.JwtPayload).exp!;
    const at = (ms: number) => createVerifier({ ...ISSUER, jwksUrl: `${base}/.well-known/jwks.json`, now: () => ms });
    await expect(at((exp + 6) * 1000).verify(auth.accessToken)).rejects.toMatchObject({ code: "TOKEN_EXPIRED" });
    const [h, p, s] = auth.accessToken.split(".");
    const changed = Buffer.from(JSON.stringify({ ...(jwt.decode(auth.accessToken) as object), roles: ["admin"] })).toString("base64url");
    await expect(at(Date.now()).verify(`${h}.${changed}.${s}`)).rejects.toMatchObject({ code: "TOKEN_INVALID", message: "bad signature" });
    const elsewhere = createVerifier({ issuer: "someone-else", audience: "gatehouse", jwksUrl: `${base}/.well-known/jwks.json` });
    await expect(elsewhere.verify(auth.accessToken)).rejects.toMatchObject({ code: "TOKEN_INVALID", message: "wrong issuer" });
    const hs = jwt.sign(jwt.decode(auth.accessToken) as object, "a-shared-secret-a-shared-secret-1234", { algorithm: "HS256" });
    await expect(at(Date.now()).verify(hs)).rejects.toMatchObject({ code: "TOKEN_INVALID" });
    expect(p).toBeTypeOf("string");
  });
});
