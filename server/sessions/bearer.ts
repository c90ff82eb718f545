/** Reading `Authorization: Bearer <token>` (RFC 6750 section 2.1; scheme is case-insensitive). */
import { appError } from "../errors.ts";

/** Longer tokens are refused before any parsing; ours are a few hundred bytes. */
const MAX_TOKEN_LENGTH = 4096;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The bearer token of an Authorization header; throws TOKEN_MISSING or TOKEN_INVALID. */
export function bearerToken(header: string | null): string {
  const value = header?.trim() ?? "";
  if (value === "") throw appError("TOKEN_MISSING");
  const space = value.search(/\s/);
  const scheme = space < 0 ? value : value.slice(0, space);
  if (scheme.toLowerCase() !== "bearer") throw appError("TOKEN_MISSING");
  const token = space < 0 ? "" : value.slice(space).trim();
  if (token === "") throw appError("TOKEN_MISSING");
  if (token.length > MAX_TOKEN_LENGTH || !TOKEN68.test(token)) throw appError("TOKEN_INVALID");
  return token;
}
