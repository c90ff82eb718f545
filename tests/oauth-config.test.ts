/**
 * OAuth configuration and the GitHub and Google presets, as units: the
 * variables parseEnv reads, the authorization URLs the presets build, and how
 * each provider's answer maps to a profile. (The flows themselves run against
 * a real OpenID provider in tests/oauth.test.ts.)
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseEnv } from "../server/env.ts";
import { envProblems as problems } from "./helpers/env.ts";
import { createLogger } from "../server/log.ts";
import { githubProfile, githubProvider, googleProfile, googleProvider } from "../server/oauth/presets.ts";
import { allowedRedirect } from "../server/oauth/redirects.ts";

const log = createLogger({ logLevel: "silent" });
const PUBLIC_URL = "https://auth.example.com";
const request = {
  state: "0190a5b4-7c3e-7000-8000-000000000001.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
  codeVerifier: "verifier-verifier-verifier-verifier-verifier-0",
  nonce: "nonce-123",
  redirectUri: `${PUBLIC_URL}/oauth/x/callback`,
};


describe("OAUTH_PROVIDERS and PUBLIC_URL", () => {
  it("defaults PUBLIC_URL to http://HOST:PORT and has no providers", () => {
    expect(parseEnv({ PORT: "4100" })).toMatchObject({ publicUrl: "http://127.0.0.1:4100", oauthProviders: [] });
    expect(parseEnv({ PUBLIC_URL: "https://auth.example.com/" }).publicUrl).toBe("https://auth.example.com");
  });

  it("reads github, google and any other name as generic OpenID Connect with its _ISSUER", () => {
    const config = parseEnv({
      OAUTH_PROVIDERS: "github, Google,oidc",
      OAUTH_GITHUB_CLIENT_ID: "gh-id",
      OAUTH_GITHUB_CLIENT_SECRET: "gh-secret",
      OAUTH_GOOGLE_CLIENT_ID: "g-id",
      OAUTH_GOOGLE_CLIENT_SECRET: "g-secret",
      OAUTH_OIDC_CLIENT_ID: "o-id",
      OAUTH_OIDC_CLIENT_SECRET: "o-secret",
      OAUTH_OIDC_ISSUER: "https://idp.example.com",
    });
    expect(config.oauthProviders).toEqual([
      { name: "github", kind: "github", clientId: "gh-id", clientSecret: "gh-secret" },
      { name: "google", kind: "google", clientId: "g-id", clientSecret: "g-secret" },
      { name: "oidc", kind: "oidc", clientId: "o-id", clientSecret: "o-secret", issuer: "https://idp.example.com" },
    ]);
  });

  it("names each missing or bad variable", () => {
    expect(problems({ OAUTH_PROVIDERS: "github,okta", OAUTH_OKTA_ISSUER: "ftp://x" })).toEqual([
      "OAUTH_GITHUB_CLIENT_ID: required while OAUTH_PROVIDERS names github",
      "OAUTH_GITHUB_CLIENT_SECRET: required while OAUTH_PROVIDERS names github",
      "OAUTH_OKTA_CLIENT_ID: required while OAUTH_PROVIDERS names okta",
      "OAUTH_OKTA_CLIENT_SECRET: required while OAUTH_PROVIDERS names okta",
      "OAUTH_OKTA_ISSUER: must be an http(s) URL",
    ]);
    expect(problems({ OAUTH_PROVIDERS: "git/hub" })[0]).toMatch(/^OAUTH_PROVIDERS: "git\/hub" is not a provider name/);
  });

  it("in production requires ENCRYPTION_KEY, an https PUBLIC_URL and https issuers", () => {
    const production = {
      NODE_ENV: "production",
      JWT_SECRET: "q3Jx0v9mB7tKp2WcN5yZ8hLd4Rf6Ug1Sa-Ee3Oi7Tn0=",
      APP_URL: "https://app.example.com",
      REFRESH_REUSE_GRACE: "0",
      OAUTH_PROVIDERS: "oidc",
      OAUTH_OIDC_CLIENT_ID: "id",
      OAUTH_OIDC_CLIENT_SECRET: "secret",
      OAUTH_OIDC_ISSUER: "http://idp.example.com",
    };
    expect(problems(production)).toEqual([
      "ENCRYPTION_KEY: required in production with OAUTH_PROVIDERS (it seals each sign-in's PKCE verifier and nonce)",
      'PUBLIC_URL: "http://127.0.0.1:3000" is not https in production; OAuth callbacks would travel in clear (set ALLOW_INSECURE_APP_URL=on to accept it)',
      "OAUTH_OIDC_ISSUER: must be https in production",
    ]);
  });
});

describe("redirect allow-list", () => {
  const config = { appUrl: "https://app.example.com", corsOrigins: ["https://spa.example.com", "http://localhost:5173"] };
  it("allows exactly the origins of APP_URL and CORS_ORIGINS", () => {
    for (const ok of ["https://app.example.com/cb", "https://spa.example.com/", "http://localhost:5173/x?y=1#z"]) {
      expect(allowedRedirect(config, ok)?.href, ok).toBe(new URL(ok).href);
    }
    for (const bad of [
      "https://app.example.com.evil.com/",
      "http://app.example.com/cb",
      "https://app.example.com:8443/",
      "https://evil.com/?https://app.example.com",
      "https://u:p@app.example.com/",
      "//app.example.com/",
      "javascript:alert(1)",
      "http://localhost:5174/",
    ]) {
      expect(allowedRedirect(config, bad), bad).toBeNull();
    }
  });
});

describe("GitHub preset", () => {
  it("builds the authorization URL with the client, the callback under PUBLIC_URL, the state and the email scopes", async () => {
    const provider = githubProvider({ name: "github", kind: "github", clientId: "gh-id", clientSecret: "s" }, `${PUBLIC_URL}/oauth/github/callback`, log);
    const url = await provider.authorizationUrl(request);
    expect(url.origin + url.pathname).toBe("https://github.com/login/oauth/authorize");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: "code",
      client_id: "gh-id",
      redirect_uri: `${PUBLIC_URL}/oauth/github/callback`,
      state: request.state,
      scope: "read:user user:email",
    });
  });

  it("maps the numeric id and the primary email with GitHub's verified flag", () => {
    const user = { id: 583231, login: "octocat", name: "The Octocat" };
    expect(
      githubProfile(user, [
        { email: "other@example.com", primary: false, verified: true },
        { email: " OctoCat@GitHub.com ", primary: true, verified: true },
      ]),
    ).toEqual({ provider: "github", subject: "583231", email: "octocat@github.com", emailVerified: true, name: "The Octocat" });
    expect(githubProfile({ id: 1, login: "ghost", name: null }, [{ email: "ghost@example.com", primary: true, verified: false }])).toEqual({
      provider: "github",
      subject: "1",
      email: "ghost@example.com",
      emailVerified: false,
      name: "ghost",
    });
    expect(githubProfile({ id: 2, login: "nomail" }, [])).toMatchObject({ email: null, emailVerified: false });
  });
});

describe("Google preset", () => {
  it("builds the authorization URL with PKCE S256, the nonce, openid email profile and the callback under PUBLIC_URL", async () => {
    const provider = googleProvider({ name: "google", kind: "google", clientId: "g-id", clientSecret: "s" }, `${PUBLIC_URL}/oauth/google/callback`, log, () => new Date());
    const url = await provider.authorizationUrl(request);
    expect(url.origin + url.pathname).toBe("https://accounts.google.com/o/oauth2/v2/auth");
    const challenge = createHash("sha256").update(request.codeVerifier).digest("base64url");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: "code",
      client_id: "g-id",
      redirect_uri: `${PUBLIC_URL}/oauth/google/callback`,
      state: request.state,
      scope: "openid email profile",
      code_challenge_method: "S256",
      code_challenge: challenge,
      nonce: request.nonce,
    });
  });

  it("maps ID token claims once iss, aud, nonce and exp match; refuses them otherwise", () => {
    const now = new Date("2026-11-30T10:00:00Z");
    const claims = {
      iss: "https://accounts.google.com",
      aud: "g-id",
      sub: "10769150350006150715113082367",
      email: "Jane@Example.com",
      email_verified: true,
      name: "Jane Doe",
      nonce: "nonce-123",
      exp: now.getTime() / 1000 + 300,
    };
    const expected = { clientId: "g-id", nonce: "nonce-123", now };
    expect(googleProfile(claims, expected)).toEqual({
      provider: "google",
      subject: "10769150350006150715113082367",
      email: "jane@example.com",
      emailVerified: true,
      name: "Jane Doe",
    });
    expect(googleProfile({ ...claims, email_verified: "true" }, expected).emailVerified).toBe(false);
    for (const bad of [{ nonce: "other" }, { aud: "someone-else" }, { iss: "https://evil.example" }, { exp: now.getTime() / 1000 - 1 }]) {
      expect(() => googleProfile({ ...claims, ...bad }, expected), JSON.stringify(bad)).toThrow(/does not match/);
    }
  });
});
