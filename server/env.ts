/**
 * Configuration: every variable of docs/API.md, parsed once.
 *
 * `parseEnv` is pure (it takes the variables as an argument) so tests build
 * configurations without touching `process.env`; `loadEnv` is the single place
 * that reads the real environment. No other module reads `process.env`.
 */
import { existsSync } from "node:fs";
import * as z from "zod";
import { parseDuration } from "./duration.ts";
import { parseTrustProxy } from "./trust-proxy.ts";
import { secretWeakness } from "./secret-strength.ts";

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

function withDefault(defaultValue: string) {
  return optionalString.transform((v) => v ?? defaultValue);
}

function integer(defaultValue: number, min: number, max: number) {
  return withDefault(String(defaultValue)).pipe(
    z
      .string()
      .regex(/^\d+$/, "must be a whole number")
      .transform(Number)
      .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`)),
  );
}

function duration(defaultValue: string) {
  return withDefault(defaultValue).transform((value, ctx) => {
    const seconds = parseDuration(value);
    if (seconds === null || seconds <= 0) {
      ctx.addIssue({ code: "custom", message: `must be a duration like 30s, 15m, 2h or 7d (got "${value}")` });
      return z.NEVER;
    }
    return seconds;
  });
}

/** A duration that may also be `0` (turned off). */
function durationOrOff(defaultValue: string) {
  return withDefault(defaultValue).transform((value, ctx) => {
    if (/^0+[smhd]?$/.test(value)) return 0;
    const seconds = parseDuration(value);
    if (seconds === null) {
      ctx.addIssue({ code: "custom", message: `must be 0 or a duration like 10s, 1m (got "${value}")` });
      return z.NEVER;
    }
    return seconds;
  });
}

function boolean(defaultValue: boolean) {
  return withDefault(String(defaultValue)).transform((value, ctx) => {
    const v = value.toLowerCase();
    if (["true", "1", "yes", "on"].includes(v)) return true;
    if (["false", "0", "no", "off"].includes(v)) return false;
    ctx.addIssue({ code: "custom", message: `must be true or false (got "${value}")` });
    return z.NEVER;
  });
}

function url(protocols: readonly string[]) {
  return optionalString.refine(
    (v) => v === undefined || (URL.canParse(v) && protocols.includes(new URL(v).protocol)),
    `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`,
  );
}

const origins = optionalString.transform((value, ctx) => {
  if (value === undefined) return [];
  const list = value.split(",").map((o) => o.trim()).filter(Boolean);
  for (const origin of list) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
      ctx.addIssue({ code: "custom", message: `"${origin}" is not an origin like https://app.example.com` });
    }
  }
  return list;
});

/** A 32-byte key given as base64 (or base64url) or as 64 hex digits. */
const key32 = optionalString.transform((value, ctx) => {
  if (value === undefined) return undefined;
  const bytes = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, "hex") : Buffer.from(value, "base64");
  if (bytes.length !== 32) {
    ctx.addIssue({ code: "custom", message: "must be 32 bytes, as base64 or as 64 hex digits (openssl rand -base64 32)" });
    return z.NEVER;
  }
  return bytes;
});

const EnvSchema = z.object({
  PORT: integer(3000, 0, 65535),
  HOST: withDefault("127.0.0.1"),
  // Unset is resolved in parseEnv: it depends on DATABASE_URL.
  NODE_ENV: optionalString.pipe(z.enum(["development", "production", "test"]).optional()),
  DATABASE_URL: url(["postgres:", "postgresql:"]),
  DATA_DIR: withDefault("./.data"),
  JWT_SECRET: optionalString,
  JWT_ALG: withDefault("HS256").pipe(z.enum(["HS256", "ES256", "RS256"], { error: 'must be "HS256", "ES256" or "RS256"' })),
  ENCRYPTION_KEY: key32,
  ACCESS_TOKEN_TTL: duration("15m"),
  REFRESH_TOKEN_TTL: duration("30d"),
  REFRESH_REUSE_GRACE: durationOrOff("10s"),
  SESSION_MAX_AGE: duration("90d"),
  BCRYPT_COST: integer(12, 4, 31),
  REDIS_URL: url(["redis:", "rediss:"]),
  REDIS_KEY_PREFIX: withDefault("gatehouse:"),
  CORS_ORIGINS: origins,
  TRUST_PROXY: optionalString.transform((value, ctx) => {
    const parsed = parseTrustProxy(value);
    if (typeof parsed === "string") {
      ctx.addIssue({ code: "custom", message: parsed });
      return z.NEVER;
    }
    return parsed;
  }),
  LOGIN_MAX_FAILURES: integer(5, 1, 1000),
  LOGIN_EMAIL_MAX_FAILURES: optionalString.pipe(
    z.union([z.undefined(), z.string().regex(/^\d+$/, "must be a whole number").transform(Number).pipe(z.number().int().min(1).max(100_000))]),
  ),
  LOGIN_LOCKOUT: duration("15m"),
  AUTH_RATE_LIMIT_PER_MINUTE: integer(30, 1, 1_000_000),
  SMTP_URL: url(["smtp:", "smtps:"]),
  MAIL_FROM: withDefault("Gatehouse <no-reply@localhost>"),
  APP_URL: optionalString.pipe(z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional()),
  ALLOW_INSECURE_APP_URL: boolean(false),
  MAIL_PER_MINUTE: integer(1, 1, 10_000),
  MAIL_PER_HOUR: integer(5, 1, 100_000),
  WEB_CONCURRENCY: integer(1, 1, 64),
  PASSWORD_QUEUE_MAX: integer(64, 0, 100_000),
  LOG_LEVEL: withDefault("info").pipe(z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])),
  TRPC_ADAPTER: withDefault("fast").pipe(z.enum(["fast", "stock"], { error: 'must be "fast" or "stock"' })),
  PANEL: boolean(false),
  EVENTS_MAX_SUBSCRIBERS: integer(10_000, 1, 1_000_000),
  EVENTS_MAX_PER_USER: integer(20, 1, 100_000),
  WEBHOOK_POLL_MS: integer(1000, 10, 3_600_000),
  WEBHOOK_TIMEOUT_MS: integer(10_000, 100, 60_000),
  WEBHOOK_CONCURRENCY: integer(16, 1, 1000),
  WEBAUTHN_RP_ID: optionalString.refine(
    (v) => v === undefined || /^(localhost|([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,})$/i.test(v),
    "must be a domain name like example.com or localhost, without scheme or port",
  ),
  WEBAUTHN_ORIGINS: origins,
  METRICS_TOKEN: optionalString,
  OTEL_EXPORTER_OTLP_ENDPOINT: url(["http:", "https:"]),
  OTEL_SERVICE_NAME: withDefault("gatehouse"),
  PUBLIC_URL: url(["http:", "https:"]),
  OAUTH_PROVIDERS: optionalString.transform((value, ctx) => {
    const names = (value ?? "").split(",").map((n) => n.trim().toLowerCase()).filter(Boolean);
    for (const name of names) {
      if (!/^[a-z][a-z0-9]{0,31}$/.test(name)) ctx.addIssue({ code: "custom", message: `"${name}" is not a provider name (letters and digits, like github, google, oidc)` });
    }
    if (new Set(names).size !== names.length) ctx.addIssue({ code: "custom", message: "names a provider twice" });
    return names;
  }),
});

/** Providers with a preset (server/oauth/presets.ts); any other name is a generic OpenID Connect provider with `_ISSUER`. */
const OAUTH_PRESETS = ["github", "google"] as const;

/** One configured sign-in provider (OAUTH_PROVIDERS and its OAUTH_<NAME>_* variables). */
export interface OAuthProviderConfig {
  name: string;
  kind: "github" | "google" | "oidc";
  clientId: string;
  clientSecret: string;
  /** The OpenID Connect issuer, for `kind: "oidc"` (discovery at `<issuer>/.well-known/openid-configuration`). */
  issuer?: string;
}

/** Reads OAUTH_<NAME>_CLIENT_ID, _CLIENT_SECRET and (generic OIDC) _ISSUER for each provider; problems name the variable. */
function oauthProviders(names: string[], source: Record<string, string | undefined>, problems: string[]): OAuthProviderConfig[] {
  return names.map((name) => {
    const variable = (suffix: string) => `OAUTH_${name.toUpperCase()}_${suffix}`;
    const read = (suffix: string) => {
      const value = source[variable(suffix)]?.trim();
      if (!value) problems.push(`${variable(suffix)}: required while OAUTH_PROVIDERS names ${name}`);
      return value ?? "";
    };
    const kind = (OAUTH_PRESETS as readonly string[]).includes(name) ? (name as "github" | "google") : "oidc";
    const provider: OAuthProviderConfig = { name, kind, clientId: read("CLIENT_ID"), clientSecret: read("CLIENT_SECRET") };
    if (kind === "oidc") {
      provider.issuer = read("ISSUER");
      if (provider.issuer !== "" && (!URL.canParse(provider.issuer) || !/^https?:$/.test(new URL(provider.issuer).protocol))) {
        problems.push(`${variable("ISSUER")}: must be an http(s) URL`);
      }
    }
    return provider;
  });
}

/** The parsed configuration the rest of the server is built from. */
export type Config = ReturnType<typeof toConfig>;

/** Thrown when the environment is invalid; `problems` name each variable. */
export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnvError";
  }
}

/** Minimum HMAC key length for HS256 (RFC 7518 section 3.2: key ≥ hash output). */
const MIN_SECRET_BYTES = 32;
/** Shortest METRICS_TOKEN accepted: a guessable token would publish the server's internals. */
const MIN_METRICS_TOKEN_BYTES = 16;
/** Below this bcrypt cost production refuses to start (OWASP Password Storage Cheat Sheet). */
const MIN_PRODUCTION_BCRYPT_COST = 10;

/** LOGIN_EMAIL_MAX_FAILURES by default: this many times LOGIN_MAX_FAILURES. */
const EMAIL_CEILING_FACTOR = 4;

/**
 * APP_URL when unset: outside production, this server itself as a browser on
 * this machine reaches it (`http://localhost:<PORT>`, or HOST when it names
 * another host), so that the links in development mail open Gatehouse's own
 * pages (server/http/link-pages.ts) whatever PORT is. Production keeps
 * `http://localhost:3000`, which its start-up check refuses (APP_URL must be
 * set there).
 */
function defaultAppUrl(production: boolean, host: string, port: number): string {
  if (production) return "http://localhost:3000";
  const local = ["127.0.0.1", "0.0.0.0", "::", "::1", "localhost"].includes(host);
  const name = local ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

function toConfig(env: z.output<typeof EnvSchema>) {
  const nodeEnv = env.NODE_ENV ?? "development";
  const production = nodeEnv === "production";
  const appUrl = (env.APP_URL ?? defaultAppUrl(production, env.HOST, env.PORT)).replace(/\/+$/, "");
  return {
    port: env.PORT,
    host: env.HOST,
    nodeEnv,
    production,
    development: nodeEnv === "development",
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    jwtSecret: env.JWT_SECRET,
    /** How access tokens are signed: HS256 with JWT_SECRET, or ES256/RS256 with keys in the database published as JWKS. */
    jwtAlg: env.JWT_ALG,
    /** AES-256-GCM key sealing secrets at rest (server/secrets/sealer.ts). */
    encryptionKey: env.ENCRYPTION_KEY,
    accessTokenTtl: env.ACCESS_TOKEN_TTL,
    refreshTokenTtl: env.REFRESH_TOKEN_TTL,
    /** Seconds a retired refresh token still answers with its successor (0: off; server/sessions/refresh.ts). */
    refreshReuseGrace: env.REFRESH_REUSE_GRACE,
    /** Absolute lifetime of a session in seconds: no refresh extends it past creation + this. */
    sessionMaxAge: env.SESSION_MAX_AGE,
    bcryptCost: env.BCRYPT_COST,
    redisUrl: env.REDIS_URL,
    /** Prefix of every Redis key, so several deployments (or test runs) can share one Redis. */
    redisKeyPrefix: env.REDIS_KEY_PREFIX,
    corsOrigins: env.CORS_ORIGINS,
    /** Which `X-Forwarded-For` entries to believe (server/http/trust-proxy.ts). */
    trustProxy: env.TRUST_PROXY,
    loginMaxFailures: env.LOGIN_MAX_FAILURES,
    /** Failures per email from all addresses before it is locked for everyone (server/limits/login-lockout.ts). */
    loginEmailMaxFailures: env.LOGIN_EMAIL_MAX_FAILURES ?? env.LOGIN_MAX_FAILURES * EMAIL_CEILING_FACTOR,
    loginLockout: env.LOGIN_LOCKOUT,
    authRateLimitPerMinute: env.AUTH_RATE_LIMIT_PER_MINUTE,
    smtpUrl: env.SMTP_URL,
    mailFrom: env.MAIL_FROM,
    appUrl,
    allowInsecureAppUrl: env.ALLOW_INSECURE_APP_URL,
    /** Mails of one kind per recipient and per user: at most this many a minute, and an hour (server/mail/throttle.ts). */
    mailPerMinute: env.MAIL_PER_MINUTE,
    mailPerHour: env.MAIL_PER_HOUR,
    webConcurrency: env.WEB_CONCURRENCY,
    passwordQueueMax: env.PASSWORD_QUEUE_MAX,
    logLevel: env.LOG_LEVEL,
    /** "stock": every /trpc request through tRPC's own standalone adapter (server/http/trpc-fast.ts). */
    trpcAdapter: env.TRPC_ADAPTER,
    panel: production ? env.PANEL : true,
    /** `auth.events` subscriptions one instance holds at most, in total and per user. */
    eventsMaxSubscribers: env.EVENTS_MAX_SUBSCRIBERS,
    eventsMaxPerUser: env.EVENTS_MAX_PER_USER,
    /**
     * Webhook delivery (server/webhooks/worker.ts): how often each instance
     * looks for due deliveries besides being woken by NOTIFY, the deadline of
     * one attempt, and the attempts one instance makes at once.
     */
    webhookPollMs: env.WEBHOOK_POLL_MS,
    webhookTimeoutMs: env.WEBHOOK_TIMEOUT_MS,
    webhookConcurrency: env.WEBHOOK_CONCURRENCY,
    /**
     * The passkey relying party (WebAuthn): the domain credentials are bound
     * to, and the page origins allowed to use them. Both default to APP_URL.
     */
    webauthn: {
      rpId: env.WEBAUTHN_RP_ID?.toLowerCase() ?? new URL(appUrl).hostname,
      origins: env.WEBAUTHN_ORIGINS.length > 0 ? env.WEBAUTHN_ORIGINS : [new URL(appUrl).origin],
    },
    /** Bearer token guarding `GET /metrics`; unset: open outside production, 404 in production. */
    metricsToken: env.METRICS_TOKEN,
    /** OTLP/HTTP base URL traces are sent to; unset: tracing is off and its SDK is never loaded. */
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    /** `service.name` on every span. */
    otelServiceName: env.OTEL_SERVICE_NAME,
    /** Gatehouse's own external base URL: OAuth callbacks are `${publicUrl}/oauth/<provider>/callback`. */
    publicUrl: (env.PUBLIC_URL ?? `http://${env.HOST.includes(":") ? `[${env.HOST}]` : env.HOST}:${env.PORT}`).replace(/\/+$/, ""),
    /** Sign-in providers; filled by parseEnv from the OAUTH_<NAME>_* variables. */
    oauthProviders: [] as OAuthProviderConfig[],
  };
}

/** Parses and checks a set of environment variables; throws `EnvError`. */
export function parseEnv(source: Record<string, string | undefined>): Config {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new EnvError(problems);
  }
  const problems: string[] = [];
  if (result.data.NODE_ENV === undefined && result.data.DATABASE_URL !== undefined) {
    // A server pointed at a real database is most likely a deployment, and
    // development mode there would log live reset links and serve /panel.
    // Guessing either way could be wrong, so we refuse and say so.
    problems.push(
      "NODE_ENV: not set while DATABASE_URL is set; Gatehouse refuses to start rather than guess. Set NODE_ENV=production for a deployment (or NODE_ENV=development for a local PostgreSQL)",
    );
  }
  const config = toConfig(result.data);
  config.oauthProviders = oauthProviders(result.data.OAUTH_PROVIDERS, source, problems);
  if (config.production && config.oauthProviders.length > 0) {
    if (config.encryptionKey === undefined) {
      problems.push("ENCRYPTION_KEY: required in production with OAUTH_PROVIDERS (it seals each sign-in's PKCE verifier and nonce)");
    }
    if (new URL(config.publicUrl).protocol !== "https:" && !config.allowInsecureAppUrl) {
      problems.push(`PUBLIC_URL: "${config.publicUrl}" is not https in production; OAuth callbacks would travel in clear (set ALLOW_INSECURE_APP_URL=on to accept it)`);
    }
    for (const provider of config.oauthProviders) {
      if (provider.issuer && new URL(provider.issuer).protocol !== "https:") {
        problems.push(`OAUTH_${provider.name.toUpperCase()}_ISSUER: must be https in production`);
      }
    }
  }
  if (config.production) {
    // With an asymmetric JWT_ALG the signing keys live in the database; JWT_SECRET
    // is then only needed to keep verifying HS256 tokens while switching.
    if (config.jwtSecret === undefined && config.jwtAlg === "HS256") {
      problems.push(`JWT_SECRET: required in production (at least ${MIN_SECRET_BYTES} bytes)`);
    } else if (config.jwtSecret !== undefined && Buffer.byteLength(config.jwtSecret) >= MIN_SECRET_BYTES) {
      const weakness = secretWeakness(config.jwtSecret);
      if (weakness !== null) problems.push(`JWT_SECRET: ${weakness}`);
    }
    if (config.refreshReuseGrace > 0 && config.encryptionKey === undefined) {
      // The grace window keeps each rotation's successor token sealed under
      // this key; failing at start-up beats failing the first refresh.
      problems.push(
        "ENCRYPTION_KEY: required in production while REFRESH_REUSE_GRACE is on (it seals the grace window's successor tokens); set 32 bytes (openssl rand -base64 32), or REFRESH_REUSE_GRACE=0",
      );
    }
    if (config.jwtAlg !== "HS256" && config.encryptionKey === undefined) {
      problems.push(`ENCRYPTION_KEY: required in production with JWT_ALG=${config.jwtAlg} (it seals the private signing keys)`);
    }
    if (config.bcryptCost < MIN_PRODUCTION_BCRYPT_COST) {
      problems.push(`BCRYPT_COST: must be at least ${MIN_PRODUCTION_BCRYPT_COST} in production`);
    }
    const appUrlProblem = insecureAppUrl(config.appUrl);
    if (appUrlProblem !== null && !config.allowInsecureAppUrl) {
      problems.push(`APP_URL: ${appUrlProblem} in production; links in mail would point there (set ALLOW_INSECURE_APP_URL=on to accept it)`);
    }
  }
  if (config.jwtSecret !== undefined && Buffer.byteLength(config.jwtSecret) < MIN_SECRET_BYTES) {
    problems.push(`JWT_SECRET: must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  if (config.loginEmailMaxFailures < config.loginMaxFailures) {
    problems.push(`LOGIN_EMAIL_MAX_FAILURES: must be at least LOGIN_MAX_FAILURES (${config.loginMaxFailures})`);
  }
  for (const origin of config.webauthn.origins) {
    const host = new URL(origin).hostname;
    // WebAuthn: the RP ID must be the origin's host or a registrable suffix of it.
    if (host !== config.webauthn.rpId && !host.endsWith(`.${config.webauthn.rpId}`)) {
      problems.push(`WEBAUTHN_ORIGINS: ${origin} is not on the relying party's domain ${config.webauthn.rpId} (WEBAUTHN_RP_ID)`);
    }
  }
  if (config.metricsToken !== undefined && Buffer.byteLength(config.metricsToken) < MIN_METRICS_TOKEN_BYTES) {
    problems.push(`METRICS_TOKEN: must be at least ${MIN_METRICS_TOKEN_BYTES} bytes (openssl rand -hex 32)`);
  }
  if (config.webConcurrency > 1 && config.databaseUrl === undefined) {
    // Each worker is its own process, and an embedded database belongs to one process.
    problems.push(
      `WEB_CONCURRENCY: ${config.webConcurrency} workers need DATABASE_URL (PostgreSQL); the embedded database (PGlite) cannot be shared between processes`,
    );
  }
  if (problems.length > 0) throw new EnvError(problems);
  return config;
}

/** Loopback names and addresses: `localhost`, `*.localhost` (RFC 6761), 127.0.0.0/8, ::1, 0.0.0.0. */
function isLocalHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host.endsWith(".localhost") || /^127\./.test(host) || host === "::1" || host === "0.0.0.0";
}

/** Why APP_URL is unfit for production (not https, or a local host), or null. */
function insecureAppUrl(appUrl: string): string | null {
  const url = new URL(appUrl);
  if (url.protocol !== "https:") return `"${appUrl}" is not https`;
  if (isLocalHost(url.hostname)) return `"${appUrl}" points at this machine`;
  return null;
}

/** Reads the process environment (after `.env`, if present). */
export function loadEnv(): Config {
  // Variables already set in the environment win over the file.
  if (existsSync(".env")) process.loadEnvFile(".env");
  return parseEnv(process.env);
}

/** `loadEnv` for an entry point: a bad variable prints its message and exits 1. */
export function loadEnvOrExit(): Config {
  try {
    return loadEnv();
  } catch (error) {
    if (!(error instanceof EnvError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
