/**
 * Access tokens: JWTs signed by `jsonwebtoken` (docs/tokens.md). HS256 with
 * JWT_SECRET by default; with JWT_ALG=ES256 or RS256, by the keyring's current
 * key, named in the header's `kid` and published as JWKS.
 *
 * Verification pins the algorithm to the key (RFC 8725 sections 2.1, 3.1: the
 * header's `alg` never chooses how a key is used; an HS256 token is only ever
 * checked with the secret, a `kid` token only with that key's own algorithm),
 * pins issuer and audience (section 3.9), requires `exp`, and refuses an `iat`
 * in the future or a lifetime longer than we issue. Keys are prepared
 * `KeyObject`s: with a string secret jsonwebtoken re-derives the key on every
 * call (about 3x slower).
 */
import jwt from "jsonwebtoken";
import { createSecretKey, type KeyObject } from "node:crypto";
import { appError } from "../errors.ts";
import type { Keyring } from "../keys/keyring.ts";
import { isUuid } from "../tokens/opaque-token.ts";
import type { AccessClaims as SignedClaims } from "../../verify/index.ts";

const TOKEN_ISSUER = "gatehouse";
const TOKEN_AUDIENCE = "gatehouse";
/** Tolerated clock skew between instances, in seconds. */
const CLOCK_SKEW = 5;
/**
 * The header jsonwebtoken writes for HS256, base64url-encoded. A token that
 * starts with it is checked with the secret without decoding the header: the
 * default algorithm's hot path stays as it was.
 */
const HS256_HEADER = `${Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url")}.`;

/**
 * The claims Gatehouse reads from a verified access token: those
 * `gatehouse/verify` hands other services (the tokens' public contract,
 * defined there), less the issuer and audience, which are pinned.
 */
export type AccessClaims = Omit<SignedClaims, "iss" | "aud">;

/**
 * A token whose signature and claim shapes were checked, kept for its next
 * calls: a client sends the same access token with every request for its
 * lifetime, and checking the signature again is most of the cost of a call
 * to a protected procedure (docs/performance.md). Only what cannot change is
 * kept; expiry, not-before, a future iat and the key's retirement are checked
 * on every call. Tokens that fail are never kept.
 */
interface SignedToken {
  claims: AccessClaims;
  nbf: number | undefined;
  /** The signing key's id, or null for HS256 (the secret, which never changes). */
  kid: string | null;
  key: KeyObject;
}

/** How many checked tokens each instance keeps (about 0.5 KB each). */
const CHECKED_TOKENS = 10_000;

export interface AccessTokensOptions {
  /** JWT_SECRET: signs when `keyring` has no signing algorithm, and verifies HS256 tokens. */
  secret: string | undefined;
  /** Asymmetric keys: signs with JWT_ALG=ES256/RS256, and verifies tokens with a `kid`. */
  keyring: Pick<Keyring, "signingAlg" | "signer" | "verifier">;
  ttlSeconds: number;
  /** How many checked tokens to keep (default 10,000); 0 checks every token in full on every call. */
  cacheSize?: number;
}

/** The decoded header, or an empty one when it is not a JSON object (the token is then refused). */
function headerOf(token: string): { alg?: unknown; kid?: unknown } {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, token.indexOf(".")), "base64url").toString("utf8"));
    return typeof header === "object" && header !== null ? header : {};
  } catch {
    return {};
  }
}

/** Signs and verifies access tokens with the configured keys and lifetime. */
export class AccessTokens {
  readonly #secret: KeyObject | null;
  readonly #keyring: AccessTokensOptions["keyring"];
  readonly ttlSeconds: number;
  readonly #cacheSize: number;
  readonly #signed = new Map<string, SignedToken>();

  constructor(options: AccessTokensOptions) {
    this.#secret = options.secret === undefined ? null : createSecretKey(Buffer.from(options.secret, "utf8"));
    this.#keyring = options.keyring;
    this.ttlSeconds = options.ttlSeconds;
    this.#cacheSize = options.cacheSize ?? CHECKED_TOKENS;
  }

  /** A signed token for the user's session, valid from `now` for the TTL. */
  sign(userId: string, sessionId: string, now: Date, roles: readonly string[] = []): string {
    const iat = Math.floor(now.getTime() / 1000);
    const payload = { sub: userId, sid: sessionId, roles, iat, exp: iat + this.ttlSeconds };
    const options = { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE };
    if (this.#keyring.signingAlg === null) {
      if (this.#secret === null) throw new Error("JWT_SECRET is required to sign HS256 tokens");
      return jwt.sign(payload, this.#secret, { ...options, algorithm: "HS256" });
    }
    const key = this.#keyring.signer(now);
    if (!key?.privateKey) throw new Error(`no ${this.#keyring.signingAlg} signing key is active`);
    return jwt.sign(payload, key.privateKey, { ...options, algorithm: key.alg, keyid: key.kid });
  }

  /** The token's claims; throws TOKEN_EXPIRED or TOKEN_INVALID. */
  verify(token: string, now: Date): AccessClaims {
    let signed = this.#signed.get(token);
    // A kept kid token counts only while its key is published: once the key retires, the full check refuses it.
    if (signed !== undefined && signed.kid !== null && this.#keyring.verifier(signed.kid, now)?.publicKey !== signed.key) {
      this.#signed.delete(token);
      signed = undefined;
    }
    signed ??= this.#remember(token, this.#checkSignature(token, now));
    const clockTimestamp = Math.floor(now.getTime() / 1000);
    const { claims, nbf } = signed;
    // In jsonwebtoken's order: not-before, then expiry (with the same tolerance), then an iat in the future.
    if (nbf !== undefined && nbf > clockTimestamp + CLOCK_SKEW) throw appError("TOKEN_INVALID");
    if (clockTimestamp >= claims.exp + CLOCK_SKEW) {
      this.#signed.delete(token);
      throw appError("TOKEN_EXPIRED");
    }
    if (claims.iat > clockTimestamp + CLOCK_SKEW) throw appError("TOKEN_INVALID");
    return claims;
  }

  /** Keeps a checked token for its next calls; the oldest goes first once the cache is full. */
  #remember(token: string, signed: SignedToken): SignedToken {
    if (this.#cacheSize === 0) return signed;
    if (this.#signed.size >= this.#cacheSize) this.#signed.delete(this.#signed.keys().next().value!);
    this.#signed.set(token, signed);
    return signed;
  }

  /**
   * What does not change with time: the signature under the pinned key and
   * algorithm, issuer, audience, and the claims' shapes. Throws TOKEN_INVALID.
   */
  #checkSignature(token: string, now: Date): SignedToken {
    let key: KeyObject;
    let algorithm: jwt.Algorithm;
    let kid: string | null = null;
    const header = token.startsWith(HS256_HEADER) ? null : headerOf(token);
    if (header === null || header.alg === "HS256") {
      // HS256: only ever the secret, whatever else the header names (kid, jku, jwk).
      if (this.#secret === null) throw appError("TOKEN_INVALID");
      key = this.#secret;
      algorithm = "HS256";
    } else {
      const found = typeof header.kid === "string" ? this.#keyring.verifier(header.kid, now) : undefined;
      // An unknown or retired kid, or an alg other than the key's own.
      if (!found || header.alg !== found.alg) throw appError("TOKEN_INVALID");
      key = found.publicKey;
      algorithm = found.alg;
      kid = found.kid;
    }
    let payload: string | jwt.JwtPayload;
    try {
      // Time is checked by verify(), on every call: these checks hold for good.
      payload = jwt.verify(token, key, {
        algorithms: [algorithm],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        ignoreExpiration: true,
        ignoreNotBefore: true,
      });
    } catch {
      throw appError("TOKEN_INVALID");
    }
    if (
      typeof payload !== "object" ||
      typeof payload.sub !== "string" ||
      typeof payload.sid !== "string" ||
      !isUuid(payload.sub) ||
      !isUuid(payload.sid) ||
      typeof payload.iat !== "number" ||
      typeof payload.exp !== "number" ||
      (payload.nbf !== undefined && typeof payload.nbf !== "number") ||
      payload.exp - payload.iat > this.ttlSeconds
    ) {
      throw appError("TOKEN_INVALID");
    }
    // Tokens issued before the `roles` claim existed carry none.
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === "string") : [];
    const claims = Object.freeze({ sub: payload.sub, sid: payload.sid, roles: Object.freeze(roles) as string[], iat: payload.iat, exp: payload.exp });
    return { claims, nbf: payload.nbf, kid, key };
  }
}
