/**
 * GitHub and Google presets through `arctic`. Google is OpenID Connect: the
 * ID token comes straight from its token endpoint over TLS, so its claims are
 * checked (`iss`, `aud`, `exp`, `nonce`) without fetching Google's keys
 * (OpenID Connect Core 1.0, section 3.1.3.7, step 6). GitHub is plain OAuth
 * 2.0 without PKCE or nonce in arctic's client: its state is still
 * single-use and bound to the browser, and the identity is read from its API
 * (`/user`, and `/user/emails` for the primary address and whether GitHub
 * verified it).
 */
import { decodeIdToken, GitHub, Google } from "arctic";
import type { OAuthProviderConfig } from "../env.ts";
import type { Logger } from "../log.ts";
import { normaliseEmail, normaliseName, providerCall, type OAuthProvider, type ProviderProfile } from "./provider.ts";

const GOOGLE_ISSUERS = ["https://accounts.google.com", "accounts.google.com"];
const GOOGLE_SCOPES = ["openid", "email", "profile"];
const GITHUB_SCOPES = ["read:user", "user:email"];
const GITHUB_API = "https://api.github.com";

/** What GitHub's `/user` and `/user/emails` answer, as far as sign-in reads them. */
export interface GitHubUser {
  id: number;
  login: string;
  name?: string | null;
}
export interface GitHubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
}

/** A GitHub account as a profile: its numeric id, and its primary email with GitHub's verified flag. */
export function githubProfile(user: GitHubUser, emails: GitHubEmail[]): ProviderProfile {
  const primary = emails.find((e) => e.primary);
  return {
    provider: "github",
    subject: String(user.id),
    email: normaliseEmail(primary?.email),
    emailVerified: primary?.verified === true,
    name: normaliseName(user.name) ?? normaliseName(user.login),
  };
}

/** Google's ID token claims as a profile, once checked against the client and the request's nonce. */
export function googleProfile(claims: Record<string, unknown>, expected: { clientId: string; nonce: string; now: Date }): ProviderProfile {
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const valid =
    GOOGLE_ISSUERS.includes(String(claims.iss)) &&
    audience.includes(expected.clientId) &&
    claims.nonce === expected.nonce &&
    typeof claims.exp === "number" &&
    claims.exp * 1000 > expected.now.getTime() &&
    typeof claims.sub === "string";
  if (!valid) throw new Error("Google ID token does not match this sign-in (iss, aud, nonce or exp)");
  return {
    provider: "google",
    subject: claims.sub as string,
    email: normaliseEmail(claims.email),
    emailVerified: claims.email_verified === true,
    name: normaliseName(claims.name),
  };
}

export function googleProvider(config: OAuthProviderConfig, redirectUri: string, log: Logger, now: () => Date): OAuthProvider {
  const google = new Google(config.clientId, config.clientSecret, redirectUri);
  const onError = (error: unknown) => log.warn({ err: error, provider: "google" }, "Google sign-in call failed");
  return {
    name: config.name,
    async authorizationUrl(request) {
      const url = google.createAuthorizationURL(request.state, request.codeVerifier, GOOGLE_SCOPES);
      url.searchParams.set("nonce", request.nonce);
      return url;
    },
    async profile(callbackUrl, request) {
      return providerCall(async () => {
        const code = callbackCode(callbackUrl, request.state);
        const tokens = await google.validateAuthorizationCode(code, request.codeVerifier);
        return googleProfile(decodeIdToken(tokens.idToken()) as Record<string, unknown>, { clientId: config.clientId, nonce: request.nonce, now: now() });
      }, onError);
    },
  };
}

export function githubProvider(config: OAuthProviderConfig, redirectUri: string, log: Logger): OAuthProvider {
  const github = new GitHub(config.clientId, config.clientSecret, redirectUri);
  const onError = (error: unknown) => log.warn({ err: error, provider: "github" }, "GitHub sign-in call failed");
  return {
    name: config.name,
    async authorizationUrl(request) {
      return github.createAuthorizationURL(request.state, GITHUB_SCOPES);
    },
    async profile(callbackUrl, request) {
      return providerCall(async () => {
        const tokens = await github.validateAuthorizationCode(callbackCode(callbackUrl, request.state));
        const get = async <T,>(path: string): Promise<T> => {
          const response = await fetch(`${GITHUB_API}${path}`, {
            headers: { authorization: `Bearer ${tokens.accessToken()}`, accept: "application/vnd.github+json", "user-agent": "gatehouse" },
            signal: AbortSignal.timeout(10_000),
          });
          if (!response.ok) throw new Error(`GitHub ${path} answered ${response.status}`);
          return (await response.json()) as T;
        };
        const [user, emails] = await Promise.all([get<GitHubUser>("/user"), get<GitHubEmail[]>("/user/emails")]);
        return githubProfile(user, emails);
      }, onError);
    },
  };
}

/** The code of a successful callback whose state matches; throws for an error answer or a mismatch. */
function callbackCode(callbackUrl: URL, state: string): string {
  const params = callbackUrl.searchParams;
  if (params.get("error") !== null) throw new Error(`provider answered ${params.get("error")}`);
  const code = params.get("code");
  if (params.get("state") !== state || code === null) throw new Error("callback without a matching state and a code");
  return code;
}
