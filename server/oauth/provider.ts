/**
 * What Gatehouse needs from a sign-in provider, whatever library speaks to
 * it: an authorization URL carrying state, PKCE and nonce, and the verified
 * identity behind a callback. Provider tokens are used once, to read the
 * identity, and never stored.
 */
import { appError } from "../errors.ts";

/** The identity a provider asserted. `email` is normalised (trimmed, lower-case) or null when absent or unusable. */
export interface ProviderProfile {
  provider: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/** One authorization request: what is sent, and what the callback is checked against. */
export interface AuthorizationRequest {
  state: string;
  /** PKCE (RFC 7636) verifier; the provider gets its S256 challenge. */
  codeVerifier: string;
  /** OpenID Connect nonce, checked in the ID token. */
  nonce: string;
  /** `${PUBLIC_URL}/oauth/<provider>/callback`. */
  redirectUri: string;
}

export interface OAuthProvider {
  readonly name: string;
  /** Where to send the browser. Throws OAUTH_PROVIDER_UNAVAILABLE when the provider cannot be reached (discovery). */
  authorizationUrl(request: AuthorizationRequest): Promise<URL>;
  /**
   * Redeems the callback's code and returns the verified identity. Throws
   * OAUTH_PROVIDER_UNAVAILABLE when the provider cannot be reached, and
   * OAUTH_CALLBACK_FAILED when its answer does not verify (state, nonce, PKCE,
   * signature, audience, an error from the provider).
   */
  profile(callbackUrl: URL, request: AuthorizationRequest): Promise<ProviderProfile>;
}

/** Whether an error is the provider being unreachable (network, timeout) rather than a refusal. */
function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "TimeoutError" || error.name === "AbortError" || error.name === "ArcticFetchError") return true;
  // fetch() rejects with a TypeError ("fetch failed") whose cause is the socket error.
  if (error instanceof TypeError && error.message === "fetch failed") return true;
  const code = (error as { code?: unknown }).code;
  return code === "OAUTH_TIMEOUT" || code === "ECONNREFUSED" || code === "ECONNRESET" || code === "ENOTFOUND" || (error.cause !== undefined && isUnreachable(error.cause));
}

/** Runs provider I/O, turning failures into the two appCodes callers answer with. */
export async function providerCall<T>(work: () => Promise<T>, onError: (error: unknown) => void): Promise<T> {
  try {
    return await work();
  } catch (error) {
    onError(error);
    throw appError(isUnreachable(error) ? "OAUTH_PROVIDER_UNAVAILABLE" : "OAUTH_CALLBACK_FAILED", { cause: error });
  }
}

const EMAIL = /^[\x21-\x7e]+@[\x21-\x7e]+\.[\x21-\x7e]+$/;

/** A provider's email claim as an account email: trimmed, lower-cased, plain ASCII, at most 254; otherwise null. */
export function normaliseEmail(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const email = value.trim().toLowerCase();
  return email.length <= 254 && EMAIL.test(email) ? email : null;
}

/** A provider's display name, if usable as an account name (1 to 100 characters, no control characters). */
export function normaliseName(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const name = value.trim();
  return name.length >= 1 && name.length <= 100 && !/\p{Cc}/u.test(name) ? name : null;
}
