/**
 * The kept-token fast path of `AccessTokens.verify` (server/sessions/access-token.ts)
 * against the plain path it stands for: one instance that keeps checked tokens
 * and one that checks every token in full (`cacheSize: 0`) answer every call of
 * the same sequence alike, as time moves on and a signing key retires.
 */
import jwt from "jsonwebtoken";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AppError } from "../server/errors.ts";
import type { LoadedKey } from "../server/keys/keyring.ts";
import { AccessTokens, type AccessClaims } from "../server/sessions/access-token.ts";
import { hs256, HS256_HEADER, OUR_ISS_AUD, unsigned } from "./helpers/jwt.ts";
import { TEST_SECRET } from "./helpers/services.ts";

const TTL = 900;
const T0 = new Date("2026-01-01T00:00:00Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const iat0 = Math.floor(T0.getTime() / 1000);

/** An ES256 key that retires at `retiresAt` (seconds after T0), as the keyring publishes it. */
function es256Key(kid: string, retiresAfter: number): LoadedKey {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { kid, alg: "ES256", publicKey, privateKey, publicJwk: {} as LoadedKey["publicJwk"], activatesAt: T0, retiresAt: at(retiresAfter) };
}

const key = es256Key("k1", 600);
const keyring = {
  signingAlg: null,
  signer: () => undefined,
  verifier: (kid: string, now: Date) => (kid === key.kid && key.retiresAt! > now ? key : undefined),
};
const options = { secret: TEST_SECRET, keyring, ttlSeconds: TTL };

/** What a call answers: the claims, or the appCode it refused with. */
function outcome(tokens: AccessTokens, token: string, now: Date): AccessClaims | string {
  try {
    return { ...tokens.verify(token, now) };
  } catch (error) {
    if (error instanceof AppError) return error.appCode;
    throw error;
  }
}

const sub = randomUUID();
const sid = randomUUID();
const claims = { sub, sid, roles: ["admin"], ...OUR_ISS_AUD };

/** Tokens of every kind the checks tell apart. */
const corpus: Record<string, string> = {
  ours: new AccessTokens(options).sign(sub, sid, T0, ["admin"]),
  "signed by hand": hs256(HS256_HEADER, { ...claims, iat: iat0, exp: iat0 + TTL }),
  "not before +100 s": hs256(HS256_HEADER, { ...claims, iat: iat0, exp: iat0 + TTL, nbf: iat0 + 100 }),
  "iat in the future": hs256(HS256_HEADER, { ...claims, iat: iat0 + 60, exp: iat0 + 60 + TTL }),
  "longer than we issue": hs256(HS256_HEADER, { ...claims, iat: iat0, exp: iat0 + TTL + 1 }),
  "other audience": hs256(HS256_HEADER, { ...claims, aud: "elsewhere", iat: iat0, exp: iat0 + TTL }),
  "other secret": hs256(HS256_HEADER, { ...claims, iat: iat0, exp: iat0 + TTL }, "not-the-secret-not-the-secret-0123456789"),
  "alg none": unsigned({ ...claims, iat: iat0, exp: iat0 + TTL }),
  "nbf not a number": hs256(HS256_HEADER, { ...claims, iat: iat0, exp: iat0 + TTL, nbf: "soon" }),
  "ES256 with kid": jwt.sign({ sub, sid, roles: [], iat: iat0, exp: iat0 + TTL }, key.privateKey!, {
    algorithm: "ES256",
    keyid: key.kid,
    issuer: "gatehouse",
    audience: "gatehouse",
  }),
};

/** Seconds after T0 at which each token is presented, in order: before its nbf, live, past the key's retirement, at and past expiry. */
const times = [-10, 0, 1, 40, 95, 120, 300, 599, 600, 601, 899, 904, 905, 906, 2000];

describe("access token checks kept between calls", () => {
  it("answer every call of a sequence exactly as checking each token in full does", () => {
    const kept = new AccessTokens(options);
    const full = new AccessTokens({ ...options, cacheSize: 0 });
    const outcomes: Record<string, (AccessClaims | string)[]> = {};
    for (const seconds of times) {
      for (const [name, token] of Object.entries(corpus)) {
        const expected = outcome(full, token, at(seconds));
        expect(outcome(kept, token, at(seconds)), `${name} at +${seconds} s`).toEqual(expected);
        (outcomes[name] ??= []).push(typeof expected === "string" ? expected : "ok");
      }
    }
    // The sequence covers each answer it is meant to: accepted, then expired; a retired key; the refusals.
    expect(outcomes.ours!.slice(0, 1)).toEqual(["TOKEN_INVALID"]);
    expect(outcomes.ours!.slice(1, 11)).toEqual(Array(10).fill("ok"));
    expect(outcomes.ours!.slice(12)).toEqual(["TOKEN_EXPIRED", "TOKEN_EXPIRED", "TOKEN_EXPIRED"]);
    expect(outcomes["not before +100 s"]!.slice(1, 6)).toEqual(["TOKEN_INVALID", "TOKEN_INVALID", "TOKEN_INVALID", "ok", "ok"]);
    expect(outcomes["ES256 with kid"]!.slice(1, 10)).toEqual([...Array(7).fill("ok"), "TOKEN_INVALID", "TOKEN_INVALID"]);
    for (const refused of ["longer than we issue", "other audience", "other secret", "alg none", "nbf not a number"]) {
      expect(new Set(outcomes[refused]), refused).toEqual(new Set(["TOKEN_INVALID"]));
    }
  });

  it("refuse a kept token once its key retires, though its signature was accepted before", () => {
    const kept = new AccessTokens(options);
    const token = corpus["ES256 with kid"]!;
    expect(outcome(kept, token, at(599))).toMatchObject({ sub, sid });
    expect(outcome(kept, token, at(600))).toBe("TOKEN_INVALID");
  });

  it("refuse a kept token once it expires, with the same 5 s tolerance", () => {
    const kept = new AccessTokens(options);
    const token = corpus.ours!;
    expect(outcome(kept, token, at(TTL + 4))).toMatchObject({ sub, sid });
    expect(outcome(kept, token, at(TTL + 5))).toBe("TOKEN_EXPIRED");
  });

  it("keep working past a full cache: the oldest token is checked in full again", () => {
    const kept = new AccessTokens({ ...options, cacheSize: 2 });
    const tokens = [0, 1, 2].map(() => kept.sign(randomUUID(), randomUUID(), T0));
    for (const token of [...tokens, ...tokens]) expect(outcome(kept, token, at(1))).toMatchObject({ iat: iat0 });
  });

  it("hand out claims that a caller cannot change for the next call", () => {
    const kept = new AccessTokens(options);
    const first = kept.verify(corpus.ours!, at(1));
    expect(Object.isFrozen(first) && Object.isFrozen(first.roles)).toBe(true);
    expect(kept.verify(corpus.ours!, at(1))).toEqual({ sub, sid, roles: ["admin"], iat: iat0, exp: iat0 + TTL });
  });
});
