/** Configuration parsing: defaults, bad values named, production strictness. */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "../server/env.ts";
import { envProblems as problems } from "./helpers/env.ts";

/** A secret as `openssl rand -base64 32` makes one. */
const SECRET = "q3Jx0v9mB7tKp2WcN5yZ8hLd4Rf6Ug1Sa-Ee3Oi7Tn0=";
const KEY = Buffer.alloc(32, 1).toString("base64");
/** What production needs besides JWT_SECRET. */
const PRODUCTION = { NODE_ENV: "production", JWT_SECRET: SECRET, APP_URL: "https://app.example.com", ENCRYPTION_KEY: KEY };


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
      trustProxy: { kind: "none" },
      allowInsecureAppUrl: false,
      mailPerMinute: 1,
      mailPerHour: 5,
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
    ["TRUST_PROXY", "10.0.0.0/33"],
    ["TRUST_PROXY", "11"],
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
    expect(problems({ ...PRODUCTION, JWT_SECRET: "" })).toEqual([expect.stringMatching(/^JWT_SECRET:/)]);
    expect(problems({ ...PRODUCTION, JWT_SECRET: "short" })).toEqual([expect.stringMatching(/^JWT_SECRET:/)]);
    expect(problems(PRODUCTION)).toEqual([]);
  });

  it("refuses BCRYPT_COST below 10 in production only", () => {
    expect(problems({ ...PRODUCTION, BCRYPT_COST: "9" })).toEqual([
      expect.stringMatching(/^BCRYPT_COST:/),
    ]);
    expect(problems({ BCRYPT_COST: "4" })).toEqual([]);
  });

  it("keeps the panel off in production unless PANEL=on", () => {
    expect(parseEnv(PRODUCTION).panel).toBe(false);
    expect(parseEnv({ ...PRODUCTION, PANEL: "on" }).panel).toBe(true);
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

describe("security review: safe production defaults", () => {
  it("refuses DATABASE_URL with NODE_ENV unset, naming the choice (review item 5)", () => {
    const found = problems({ DATABASE_URL: "postgres://db.example.com/gatehouse" });
    expect(found).toEqual([expect.stringMatching(/^NODE_ENV: not set while DATABASE_URL is set; Gatehouse refuses to start/)]);
    expect(found[0]).toMatch(/NODE_ENV=production/);
    // Said explicitly, either way is accepted.
    expect(parseEnv({ DATABASE_URL: "postgres://db.example.com/gatehouse", NODE_ENV: "development" }).development).toBe(true);
    expect(problems({ ...PRODUCTION, DATABASE_URL: "postgres://db.example.com/gatehouse" })).toEqual([]);
    // Without DATABASE_URL, unset still means development.
    expect(parseEnv({}).nodeEnv).toBe("development");
  });

  it.each([
    ["http://app.example.com", /not https/],
    ["https://localhost:3000", /points at this machine/],
    ["https://127.0.0.1", /points at this machine/],
    ["https://[::1]:8443", /points at this machine/],
    ["https://app.localhost", /points at this machine/],
  ])("refuses APP_URL %s in production unless ALLOW_INSECURE_APP_URL=on (review item 9)", (appUrl, reason) => {
    expect(problems({ ...PRODUCTION, APP_URL: appUrl })).toEqual([expect.stringMatching(/^APP_URL: /)]);
    expect(problems({ ...PRODUCTION, APP_URL: appUrl })[0]).toMatch(reason);
    expect(problems({ ...PRODUCTION, APP_URL: appUrl, ALLOW_INSECURE_APP_URL: "on" })).toEqual([]);
    // Development takes it as it is.
    expect(problems({ APP_URL: appUrl })).toEqual([]);
  });

  it("refuses the default APP_URL in production (review item 9)", () => {
    const { APP_URL: _unused, ...withoutAppUrl } = PRODUCTION;
    expect(problems(withoutAppUrl)).toEqual([expect.stringMatching(/^APP_URL: "http:\/\/localhost:3000" is not https/)]);
  });

  it.each([
    ["32 × a", "a".repeat(32), /short pattern repeated/],
    ["a repeated pair", "ab".repeat(20), /short pattern repeated/],
    ["a repeated word", "secret".repeat(6), /short pattern repeated/],
    ["a dictionary word with digits", "1234passwordpasswordpassword1234567", /dictionary word/],
    ["a padded diceware word", "!!!!!!!!!!!!!!!!!!!!!!abacus!!!!!!!!!!!!!!!!!!", /dictionary word/],
    ["too few distinct characters", "abcdabcdabcdabcdabcdabcdabcdabcdX", /too little entropy/],
  ])("refuses a JWT_SECRET that is %s in production (review item 9)", (_what, secret, reason) => {
    const found = problems({ ...PRODUCTION, JWT_SECRET: secret });
    expect(found).toEqual([expect.stringMatching(/^JWT_SECRET: /)]);
    expect(found[0]).toMatch(reason);
    // The secret itself is never repeated in the message.
    expect(found[0]).not.toContain(secret);
  });

  it("accepts random secrets from openssl rand in production (review item 9)", () => {
    for (const secret of [randomBytes(32).toString("base64"), randomBytes(32).toString("hex"), randomBytes(32).toString("base64url")]) {
      expect(problems({ ...PRODUCTION, JWT_SECRET: secret })).toEqual([]);
    }
  });
});

describe("TRUST_PROXY parsing (review item 2)", () => {
  it.each([
    [undefined, { kind: "none" }],
    ["false", { kind: "none" }],
    ["0", { kind: "none" }],
    ["true", { kind: "hops", hops: 1 }],
    ["2", { kind: "hops", hops: 2 }],
    ["10.0.0.0/8, 192.168.1.7", { kind: "cidrs", cidrs: ["10.0.0.0/8", "192.168.1.7/32"] }],
    ["loopback,2001:db8::/32", { kind: "cidrs", cidrs: ["127.0.0.0/8", "::1/128", "2001:db8::/32"] }],
  ])("reads %j", (value, expected) => {
    expect(parseEnv(value === undefined ? {} : { TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });
});
