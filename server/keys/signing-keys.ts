/**
 * Asymmetric signing keys: made here, stored sealed, loaded as `KeyObject`s.
 *
 * ES256 is ECDSA on P-256, RS256 is RSASSA-PKCS1-v1_5 with a 2048-bit key
 * (RFC 7518 sections 3.3 and 3.4: 2048 bits is the minimum). The `kid` is the
 * key's JWK thumbprint (RFC 7638), so it names the key itself and two
 * instances creating keys at once can never collide on an id.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from "node:crypto";

/** The algorithms a signing key can have (JWT_ALG other than HS256). */
export type AsymmetricAlg = "ES256" | "RS256";

/** A public key as published in the JWKS. */
export interface PublicJwk {
  kty: "EC" | "RSA";
  kid: string;
  alg: AsymmetricAlg;
  use: "sig";
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

/** A new key pair, the private half as PKCS#8 PEM (to be sealed before it is stored). */
export interface NewSigningKey {
  kid: string;
  alg: AsymmetricAlg;
  publicJwk: PublicJwk;
  privatePem: string;
}

/** The context a private key is sealed under: moving it to another row fails to open. */
export function privateKeyContext(kid: string): string {
  return `signing-key:${kid}`;
}

/** RFC 7638: SHA-256 over the required members in lexicographic order. */
function thumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === "EC" ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash("sha256").update(JSON.stringify(members)).digest("base64url");
}

/** Generates a key pair for the algorithm. */
export function generateSigningKey(alg: AsymmetricAlg): NewSigningKey {
  const { publicKey, privateKey } =
    alg === "ES256" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = publicKey.export({ format: "jwk" });
  const kid = thumbprint(jwk);
  const publicJwk: PublicJwk =
    alg === "ES256"
      ? { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y, kid, alg, use: "sig" }
      : { kty: "RSA", n: jwk.n, e: jwk.e, kid, alg, use: "sig" };
  return { kid, alg, publicJwk, privatePem: privateKey.export({ format: "pem", type: "pkcs8" }).toString() };
}

/** The verifying half from its published JWK. */
export function publicKeyOf(jwk: PublicJwk): KeyObject {
  return createPublicKey({ key: { ...jwk } as JsonWebKey, format: "jwk" });
}

/** The signing half from its (opened) PEM. */
export function privateKeyOf(pem: string): KeyObject {
  return createPrivateKey(pem);
}
