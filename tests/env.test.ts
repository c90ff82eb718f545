/** Configuration parsing: defaults, bad values named, production strictness. */
import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "../server/env.ts";

const SECRET = "x".repeat(32);

function problems(source: Record<string, string>): string[] {
  try {
    parseEnv(source);
  } catch (error) {
    if (error instanceof EnvError) return error.problems;
    throw error;
  }
  return [];
}

describe("parseEnv", () => {
  it("has the defaults of docs/API.md", () => {
    expect(parseEnv({})).toMatchObject({
      port: 3000,
      host: "127.0.0.1",
      nodeEnv: "development",
      databaseUrl: undefined,
      dataDir: "./.data",
      accessTokenTtl: 15 * 60,
      refreshTokenTtl: 30 * 86_400,
      bcryptCost: 12,
      redisUrl: undefined,
      corsOrigins: [],
      trustProxy: false,
      loginMaxFailures: 5,
      loginLockout: 15 * 60,
      authRateLimitPerMinute: 30,
      smtpUrl: undefined,
      mailFrom: "Gatehouse <no-reply@localhost>",
      appUrl: "http://localhost:3000",
      webConcurrency: 1,
      passwordQueueMax: 64,
      logLevel: "info",
    });
  });

  it("parses durations in s, m, h and d", () => {
    const config = parseEnv({ ACCESS_TOKEN_TTL: "30s", REFRESH_TOKEN_TTL: "7d", LOGIN_LOCKOUT: "2h" });
    expect([config.accessTokenTtl, config.refreshTokenTtl, config.loginLockout]).toEqual([30, 7 * 86_400, 7200]);
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["BCRYPT_COST", "abc"],
    ["ACCESS_TOKEN_TTL", "15 minutes"],
    ["REFRESH_TOKEN_TTL", "0d"],
    ["DATABASE_URL", "mysql://localhost/db"],
    ["REDIS_URL", "http://localhost"],
    ["TRUST_PROXY", "maybe"],
    ["CORS_ORIGINS", "https://ok.example.com,not an origin"],
    ["LOG_LEVEL", "loud"],
    ["NODE_ENV", "staging"],
    ["JWT_SECRET", "too-short"],
  ])("names %s when it is %j", (name, value) => {
    const found = problems({ [name]: value });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${name}:`));
  });

  it("treats empty values as unset", () => {
    expect(parseEnv({ PORT: "", DATABASE_URL: " " })).toMatchObject({ port: 3000, databaseUrl: undefined });
  });

  it("refuses production without a JWT_SECRET, or with a short one", () => {
    expect(problems({ NODE_ENV: "production" })).toEqual([expect.stringMatching(/^JWT_SECRET:/)]);
    expect(problems({ NODE_ENV: "production", JWT_SECRET: "short" })).toEqual([expect.stringMatching(/^JWT_SECRET:/)]);
    expect(problems({ NODE_ENV: "production", JWT_SECRET: SECRET })).toEqual([]);
  });

  it("refuses BCRYPT_COST below 10 in production only", () => {
    expect(problems({ NODE_ENV: "production", JWT_SECRET: SECRET, BCRYPT_COST: "9" })).toEqual([
      expect.stringMatching(/^BCRYPT_COST:/),
    ]);
    expect(problems({ BCRYPT_COST: "4" })).toEqual([]);
  });

  it("keeps the panel off in production unless PANEL=on", () => {
    expect(parseEnv({ NODE_ENV: "production", JWT_SECRET: SECRET }).panel).toBe(false);
    expect(parseEnv({ NODE_ENV: "production", JWT_SECRET: SECRET, PANEL: "on" }).panel).toBe(true);
    expect(parseEnv({}).panel).toBe(true);
  });

  it("splits CORS_ORIGINS", () => {
    expect(parseEnv({ CORS_ORIGINS: "https://a.example.com, http://localhost:5173" }).corsOrigins).toEqual([
      "https://a.example.com",
      "http://localhost:5173",
    ]);
  });

  it("takes the passkey relying party from APP_URL unless WEBAUTHN_RP_ID / WEBAUTHN_ORIGINS say otherwise", () => {
    expect(parseEnv({}).webauthn).toEqual({ rpId: "localhost", origins: ["http://localhost:3000"] });
    expect(parseEnv({ APP_URL: "https://app.example.com/base/" }).webauthn).toEqual({ rpId: "app.example.com", origins: ["https://app.example.com"] });
    expect(
      parseEnv({ APP_URL: "https://app.example.com", WEBAUTHN_RP_ID: "Example.com", WEBAUTHN_ORIGINS: "https://app.example.com,https://example.com" }).webauthn,
    ).toEqual({ rpId: "example.com", origins: ["https://app.example.com", "https://example.com"] });
  });

  it("refuses a WEBAUTHN_RP_ID that is not a domain, and origins outside it, naming the variable", () => {
    expect(problems({ WEBAUTHN_RP_ID: "https://example.com" })[0]).toMatch(/^WEBAUTHN_RP_ID: /);
    expect(problems({ WEBAUTHN_RP_ID: "example.com:443" })[0]).toMatch(/^WEBAUTHN_RP_ID: /);
    expect(problems({ WEBAUTHN_RP_ID: "example.com", WEBAUTHN_ORIGINS: "https://evil-example.com" })).toEqual([
      "WEBAUTHN_ORIGINS: https://evil-example.com is not on the relying party's domain example.com (WEBAUTHN_RP_ID)",
    ]);
    expect(problems({ WEBAUTHN_ORIGINS: "not an origin" })[0]).toMatch(/^WEBAUTHN_ORIGINS: /);
  });
});
