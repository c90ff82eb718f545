/**
 * `gatehouse/verify`: checks Gatehouse access tokens in another service,
 * without calling Gatehouse, against its JWKS (JWT_ALG=ES256 or RS256).
 *
 *   const verifier = createVerifier({ issuer: "gatehouse", audience: "gatehouse", jwksUrl: "https://auth.example.com/.well-known/jwks.json" });
 *   const claims = await verifier.verify(token); // { sub, sid, roles, iat, exp }
 *
 * Web Crypto and `fetch` only, so it runs on Node 20+ and on edge runtimes.
 * The JWKS is cached (5 minutes by default) and refetched on an unknown `kid`,
 * at most once per `refetchIntervalMs`, so a flood of forged kids cannot turn
 * into a flood of fetches.
 *
 * Offline verification cannot see a revocation: a token stays valid here until
 * its `exp` even after logout. See docs/tokens.md for what to do about it.
 */

/** The claims of a verified Gatehouse access token. */
export interface AccessClaims {
  /** The user id. */
  sub: string;
  /** The session id. */
  sid: string;
  /** The user's roles when the token was issued. */
  roles: string[];
  iat: number;
  exp: number;
  iss: string;
  aud: string | string[];
}

/** Why a token was refused: `TOKEN_EXPIRED` past its `exp`, `TOKEN_INVALID` for anything else. */
export class TokenVerificationError extends Error {
  constructor(
    readonly code: "TOKEN_INVALID" | "TOKEN_EXPIRED",
    message: string,
  ) {
    super(message);
    this.name = "TokenVerificationError";
  }
}

export interface VerifierOptions {
  /** Gatehouse's `iss` (default deployment: "gatehouse"). */
  issuer: string;
  /** Gatehouse's `aud` (default deployment: "gatehouse"). */
  audience: string;
  /** `https://<gatehouse>/.well-known/jwks.json` */
  jwksUrl: string | URL;
  /** How long a fetched JWKS is used before it is fetched again (default 5 minutes). */
  cacheMaxAgeMs?: number;
  /** Least time between two fetches caused by unknown kids (default 30 s). */
  refetchIntervalMs?: number;
  /** Tolerated clock skew for `exp` and `iat`, in seconds (default 5). */
  clockToleranceSeconds?: number;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
  /** The clock, in ms since the epoch (tests). */
  now?: () => number;
}

export interface Verifier {
  /** The token's claims; throws `TokenVerificationError`. */
  verify(token: string): Promise<AccessClaims>;
}

type Alg = "ES256" | "RS256";
// Derived from the global Web Crypto object, so neither the DOM nor Node's type library is required.
type Subtle = typeof crypto.subtle;
type CryptoKey = Awaited<ReturnType<Subtle["importKey"]>>;
type ImportParams = Parameters<Subtle["importKey"]>[2];
type VerifyParams = Parameters<Subtle["verify"]>[0];
type JsonWebKey = Extract<Parameters<Subtle["importKey"]>[1], { kty?: string }>;

interface Jwk {
  kty?: string;
  kid?: string;
  alg?: string;
  use?: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

const ALGORITHMS: Record<Alg, { importParams: ImportParams; verifyParams: VerifyParams }> = {
  ES256: { importParams: { name: "ECDSA", namedCurve: "P-256" }, verifyParams: { name: "ECDSA", hash: "SHA-256" } },
  RS256: { importParams: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, verifyParams: "RSASSA-PKCS1-v1_5" },
};

function isAlg(value: unknown): value is Alg {
  return value === "ES256" || value === "RS256";
}

function invalid(message: string): TokenVerificationError {
  return new TokenVerificationError("TOKEN_INVALID", message);
}

function base64urlBytes(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw invalid("malformed token");
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function decodeJson(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(base64urlBytes(segment)));
  } catch (error) {
    throw error instanceof TokenVerificationError ? error : invalid("malformed token");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid("malformed token");
  return value as Record<string, unknown>;
}

/** A verifier for one Gatehouse deployment; keep one per process, it holds the JWKS cache. */
export function createVerifier(options: VerifierOptions): Verifier {
  const fetchJwks = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const maxAge = options.cacheMaxAgeMs ?? 300_000;
  const refetchInterval = options.refetchIntervalMs ?? 30_000;
  const tolerance = options.clockToleranceSeconds ?? 5;

  let keys = new Map<string, { alg: Alg; key: Promise<CryptoKey> }>();
  let fetchedAt = -Infinity;
  let inFlight: Promise<void> | null = null;

  async function refresh(): Promise<void> {
    const response = await fetchJwks(options.jwksUrl, { headers: { accept: "application/jwk-set+json, application/json" } });
    if (!response.ok) throw new Error(`JWKS fetch failed: HTTP ${response.status}`);
    const body = (await response.json()) as { keys?: Jwk[] };
    const next = new Map<string, { alg: Alg; key: Promise<CryptoKey> }>();
    for (const jwk of body.keys ?? []) {
      if (typeof jwk.kid !== "string" || !isAlg(jwk.alg) || (jwk.use !== undefined && jwk.use !== "sig")) continue;
      const known = keys.get(jwk.kid);
      const alg = jwk.alg;
      const key = known?.alg === alg ? known.key : crypto.subtle.importKey("jwk", jwk as JsonWebKey, ALGORITHMS[alg].importParams, false, ["verify"]);
      key.catch(() => undefined); // a bad key fails the tokens that name it, not the process
      next.set(jwk.kid, { alg, key });
    }
    keys = next;
    fetchedAt = now();
  }

  function refreshOnce(): Promise<void> {
    inFlight ??= refresh().finally(() => (inFlight = null));
    return inFlight;
  }

  async function keyFor(kid: string): Promise<{ alg: Alg; key: Promise<CryptoKey> } | undefined> {
    if (now() - fetchedAt >= maxAge) await refreshOnce();
    else if (!keys.has(kid) && now() - fetchedAt >= refetchInterval) await refreshOnce();
    return keys.get(kid);
  }

  return {
    async verify(token) {
      const parts = token.split(".");
      if (parts.length !== 3) throw invalid("malformed token");
      const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
      const header = decodeJson(headerPart);
      // The key decides the algorithm (RFC 8725 section 3.1): only ES256/RS256 keys from the JWKS.
      if (!isAlg(header.alg)) throw invalid(`unsupported alg ${String(header.alg)}`);
      if (typeof header.kid !== "string") throw invalid("token has no kid");
      const found = await keyFor(header.kid);
      if (!found) throw invalid("unknown kid");
      if (found.alg !== header.alg) throw invalid("alg does not match the key");
      let key: CryptoKey;
      try {
        key = await found.key;
      } catch {
        throw invalid("the JWKS key for this kid cannot be used");
      }
      const signed = new TextEncoder().encode(`${headerPart}.${payloadPart}`);
      const valid = await crypto.subtle.verify(ALGORITHMS[found.alg].verifyParams, key, base64urlBytes(signaturePart), signed);
      if (!valid) throw invalid("bad signature");

      const claims = decodeJson(payloadPart);
      const seconds = Math.floor(now() / 1000);
      const { sub, sid, roles, iat, exp, iss, aud } = claims;
      if (iss !== options.issuer) throw invalid("wrong issuer");
      if (aud !== options.audience && !(Array.isArray(aud) && aud.includes(options.audience))) throw invalid("wrong audience");
      if (typeof exp !== "number" || typeof iat !== "number") throw invalid("token has no exp or iat");
      if (iat > seconds + tolerance) throw invalid("token issued in the future");
      if (exp <= seconds - tolerance) throw new TokenVerificationError("TOKEN_EXPIRED", "token expired");
      if (typeof sub !== "string" || typeof sid !== "string") throw invalid("token has no sub or sid");
      const roleList = Array.isArray(roles) ? roles.filter((r): r is string => typeof r === "string") : [];
      return { sub, sid, roles: roleList, iat, exp, iss, aud: aud as string | string[] };
    },
  };
}
