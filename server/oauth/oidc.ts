/**
 * A generic OpenID Connect provider through `openid-client`: discovery from
 * the issuer, authorization code flow with PKCE (S256), state and nonce, and
 * ID token validation (signature against the issuer's JWKS, `iss`, `aud`,
 * `exp`, `nonce`) by the library. The email comes from the ID token, or from
 * the UserInfo endpoint when the ID token leaves it out.
 */
import * as client from "openid-client";
import type { OAuthProviderConfig } from "../env.ts";
import type { Logger } from "../log.ts";
import { normaliseEmail, normaliseName, providerCall, type AuthorizationRequest, type OAuthProvider } from "./provider.ts";

const SCOPE = "openid email profile";
/** Seconds any request to the provider may take. */
const TIMEOUT_SECONDS = 10;

export function oidcProvider(config: OAuthProviderConfig, options: { allowHttp: boolean; log: Logger }): OAuthProvider {
  const issuer = new URL(config.issuer!);
  let discovered: Promise<client.Configuration> | null = null;
  const onError = (error: unknown) => options.log.warn({ err: error, provider: config.name }, "OpenID Connect provider call failed");

  // Discovered once and kept; a failed discovery is forgotten so the next sign-in retries it.
  function configuration(): Promise<client.Configuration> {
    discovered ??= client
      .discovery(issuer, config.clientId, undefined, client.ClientSecretBasic(config.clientSecret), {
        // Plain http only outside production (tests and a local IdP); env.ts refuses it in production.
        execute: options.allowHttp ? [client.allowInsecureRequests] : [],
        timeout: TIMEOUT_SECONDS,
      })
      .catch((error: unknown) => {
        discovered = null;
        throw error;
      });
    return discovered;
  }

  return {
    name: config.name,
    async authorizationUrl(request: AuthorizationRequest) {
      return providerCall(async () => {
        const discovery = await configuration();
        return client.buildAuthorizationUrl(discovery, {
          redirect_uri: request.redirectUri,
          scope: SCOPE,
          state: request.state,
          nonce: request.nonce,
          code_challenge: await client.calculatePKCECodeChallenge(request.codeVerifier),
          code_challenge_method: "S256",
        });
      }, onError);
    },
    async profile(callbackUrl: URL, request: AuthorizationRequest) {
      return providerCall(async () => {
        const discovery = await configuration();
        const tokens = await client.authorizationCodeGrant(discovery, callbackUrl, {
          pkceCodeVerifier: request.codeVerifier,
          expectedState: request.state,
          expectedNonce: request.nonce,
          idTokenExpected: true,
        });
        const claims = tokens.claims()!;
        const info = claims.email === undefined ? await client.fetchUserInfo(discovery, tokens.access_token, claims.sub) : claims;
        return {
          provider: config.name,
          subject: claims.sub,
          email: normaliseEmail(info.email),
          emailVerified: info.email_verified === true,
          name: normaliseName(info.name ?? claims.name),
        };
      }, onError);
    },
  };
}
