/**
 * Access tokens: HS256 JWTs signed by `jsonwebtoken` (docs/API.md).
 *
 * Verification pins the algorithm, issuer and audience (RFC 8725 sections 3.1,
 * 3.9), requires `exp`, and refuses an `iat` in the future or a lifetime longer
 * than we issue. The key is a prepared `KeyObject`: with a string secret
 * jsonwebtoken re-derives the key on every call (about 3x slower).
 */
import jwt from "jsonwebtoken";
import { createSecretKey, type KeyObject } from "node:crypto";
import { appError } from "../errors.ts";
import { isUuid } from "../tokens/opaque-token.ts";

export const TOKEN_ISSUER = "gatehouse";
export const TOKEN_AUDIENCE = "gatehouse";
const ALGORITHM = "HS256";
/** Tolerated clock skew between instances, in seconds. */
const CLOCK_SKEW = 5;

/** The claims Gatehouse reads from a verified access token. */
export interface AccessClaims {
  sub: string;
  sid: string;
  iat: number;
  exp: number;
}

/** Signs and verifies access tokens with one secret and lifetime. */
export class AccessTokens {
  readonly #key: KeyObject;
  readonly ttlSeconds: number;

  constructor(secret: string, ttlSeconds: number) {
    this.#key = createSecretKey(Buffer.from(secret, "utf8"));
    this.ttlSeconds = ttlSeconds;
  }

  /** A signed token for the user's session, valid from `now` for the TTL. */
  sign(userId: string, sessionId: string, now: Date): string {
    const iat = Math.floor(now.getTime() / 1000);
    return jwt.sign({ sub: userId, sid: sessionId, iat, exp: iat + this.ttlSeconds }, this.#key, {
      algorithm: ALGORITHM,
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
    });
  }

  /** The token's claims; throws TOKEN_EXPIRED or TOKEN_INVALID. */
  verify(token: string, now: Date): AccessClaims {
    const clockTimestamp = Math.floor(now.getTime() / 1000);
    let payload: string | jwt.JwtPayload;
    try {
      payload = jwt.verify(token, this.#key, {
        algorithms: [ALGORITHM],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        clockTimestamp,
        clockTolerance: CLOCK_SKEW,
      });
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) throw appError("TOKEN_EXPIRED");
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
      payload.iat > clockTimestamp + CLOCK_SKEW ||
      payload.exp - payload.iat > this.ttlSeconds
    ) {
      throw appError("TOKEN_INVALID");
    }
    return { sub: payload.sub, sid: payload.sid, iat: payload.iat, exp: payload.exp };
  }
}
