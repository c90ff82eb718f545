/** Hand-made JWTs for attack tests: every byte of header and payload under the test's control. */
import { createHmac } from "node:crypto";
import { TEST_SECRET } from "./services.ts";

/** base64url of a JSON value. */
export const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Signs header.payload with HMAC-SHA-256 by hand (the test secret unless another is given). */
export function hs256(header: object, payload: object, secret: string = TEST_SECRET): string {
  const body = `${b64(header)}.${b64(payload)}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

/** An unsigned `alg: none` token. */
export function unsigned(payload: object): string {
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(payload)}.`;
}

/** The standard header of our tokens. */
export const HS256_HEADER = { alg: "HS256", typ: "JWT" } as const;
/** The issuer and audience our tokens carry. */
export const OUR_ISS_AUD = { iss: "gatehouse", aud: "gatehouse" } as const;
