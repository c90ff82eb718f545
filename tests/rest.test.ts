/**
 * The REST bridge under /api and its OpenAPI document (docs/API.md),
 * as a REST client sees them: plain JSON, bearer auth, the statuses of /trpc,
 * `{ error: { code, message } }` errors, and a document that describes every
 * procedure of docs/API.md truthfully (walked and called operation by operation).
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import { beforeAll, describe, expect, it } from "vitest";
import { changeRoles } from "../server/admin/roles.ts";
import * as z from "zod";
import { queryInput } from "../server/http/rest.ts";
import { issueOAuthCode } from "../server/oauth/codes.ts";
import { createWebhook } from "../server/webhooks/endpoints.ts";
import type { Services } from "../server/services.ts";
import type { MemoryOutbox } from "../server/mail/outbox.ts";
import { newAccount } from "./helpers/caller.ts";
import { openTestDatabase } from "./helpers/database.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { testServices } from "./helpers/services.ts";
import { totpCode } from "./helpers/totp.ts";

/** Every procedure of docs/API.md, as the bridge serves it. */
const CONTRACT = [
  "POST /auth/register",
  "POST /auth/login",
  "POST /auth/refresh",
  "POST /auth/logout",
  "POST /auth/logoutAll",
  "GET /auth/me",
  "GET /auth/sessions",
  "POST /auth/revokeSession",
  "POST /auth/changePassword",
  "POST /auth/requestPasswordReset",
  "POST /auth/resetPassword",
  "POST /auth/requestEmailVerification",
  "POST /auth/verifyEmail",
  "POST /auth/deleteAccount",
  "GET /auth/activity",
  "POST /user/updateProfile",
  "POST /auth/verifyMfa",
  "GET /mfa/status",
  "POST /mfa/totpSetup",
  "POST /mfa/totpEnable",
  "POST /mfa/totpDisable",
  "POST /mfa/recoveryCodesRegenerate",
  "POST /passkey/registrationOptions",
  "POST /passkey/register",
  "GET /passkey/list",
  "POST /passkey/remove",
  "POST /passkey/authenticationOptions",
  "POST /passkey/authenticate",
  "GET /health",
  "POST /auth/requestMagicLink",
  "POST /auth/consumeMagicLink",
  "POST /auth/requestEmailCode",
  "POST /auth/verifyEmailCode",
  "POST /auth/setPassword",
  "GET /auth/oauthProviders",
  "POST /auth/exchangeOAuthCode",
  "POST /auth/linkOAuth",
  "GET /auth/identities",
  "POST /auth/unlinkIdentity",
  "GET /admin/listUsers",
  "GET /admin/getUser",
  "POST /admin/setRoles",
  "POST /admin/disableUser",
  "POST /admin/enableUser",
  "POST /admin/revokeSessions",
  "POST /admin/deleteUser",
  "POST /admin/impersonate",
  "GET /admin/audit",
  "POST /admin/createWebhook",
  "GET /admin/listWebhooks",
  "POST /admin/deleteWebhook",
  "GET /admin/webhookDeliveries",
  "POST /admin/redeliver",
];
const BEARER = new Set(
  CONTRACT.filter(
    (op) => op.startsWith("POST /passkey/regist") || !/register|login|refresh$|PasswordReset|resetPassword|verifyEmail|verifyMfa|authenticat|health|MagicLink|EmailCode|exchangeOAuthCode|oauthProviders/.test(op),
  ),
);
/**
 * Operations that need a real authenticator's signature to succeed: the walk
 * sends a well-formed response and expects the documented PASSKEY_INVALID;
 * tests/passkeys.test.ts calls them over REST with Chromium's authenticator.
 */
const NEEDS_AUTHENTICATOR = new Set(["POST /passkey/register", "POST /passkey/authenticate"]);
const WELL_FORMED_ASSERTION = {
  id: "AAAA",
  rawId: "AAAA",
  type: "public-key",
  response: { clientDataJSON: "e30", authenticatorData: "AAAA", signature: "AAAA", attestationObject: "AAAA" },
  clientExtensionResults: {},
};

let services: Services;
let base: string;

beforeAll(async () => {
  const db = await openTestDatabase();
  // The walk registers an account per operation: more public calls than the default per-minute limit.
  services = await testServices(db, {
    // GitHub's preset builds its authorization URL without network, so auth.linkOAuth can answer 200.
    env: { AUTH_RATE_LIMIT_PER_MINUTE: "10000", OAUTH_PROVIDERS: "github", OAUTH_GITHUB_CLIENT_ID: "walk", OAUTH_GITHUB_CLIENT_SECRET: "walk" },
  });
  base = (await startTestServer(services)).url;
});

async function api(method: string, path: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] ??= "application/json";
  const res = await fetch(`${base}/api${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { res, status: res.status, json: text ? (JSON.parse(text) as any) : undefined };
}

interface Account {
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  userId: string;
}

async function registered(): Promise<Account> {
  const account = newAccount();
  const { status, json } = await api("POST", "/auth/register", { body: account });
  expect(status).toBe(200);
  return { ...account, accessToken: json.accessToken, refreshToken: json.refreshToken, userId: json.user.id };
}

/**
 * What an MFA operation needs before it can succeed: a pending setup for
 * `totpEnable`; TOTP on for the others (a recovery code as their `code`, since
 * the enabling TOTP code is spent), and a sign-in challenge for `verifyMfa`.
 */
async function prepareMfa(path: string, account: Account): Promise<{ code?: string; mfaToken?: string }> {
  if (path === "/auth/verifyEmailCode") {
    await api("POST", "/auth/requestEmailCode", { body: { email: account.email } });
    return { code: await mailedCode(account.email) };
  }
  // setPassword succeeds for an account without a password (as OAuth creates them).
  if (path === "/auth/setPassword") await services.db.prisma.user.update({ where: { id: account.userId }, data: { passwordHash: null } });
  if (!["/mfa/totpEnable", "/mfa/totpDisable", "/mfa/recoveryCodesRegenerate", "/auth/verifyMfa"].includes(path)) return {};
  const setup = await api("POST", "/mfa/totpSetup", { body: { password: account.password }, token: account.accessToken });
  expect(setup.status).toBe(200);
  if (path === "/mfa/totpEnable") return { code: totpCode(setup.json.secret, new Date()) };
  const enabled = await api("POST", "/mfa/totpEnable", { body: { code: totpCode(setup.json.secret, new Date()) }, token: account.accessToken });
  expect(enabled.status).toBe(200);
  if (path !== "/auth/verifyMfa") return { code: enabled.json.recoveryCodes[0] };
  const login = await api("POST", "/auth/login", { body: { email: account.email, password: account.password } });
  expect(login.json.mfaRequired).toBe(true);
  return { code: enabled.json.recoveryCodes[0], mfaToken: login.json.mfaToken };
}

/** The token of the latest mail to `to` whose link goes to `page` (the development outbox, in memory here). */
async function mailedToken(to: string, page: string): Promise<string> {
  const outbox = services.mailer as MemoryOutbox;
  let link: string | undefined;
  await expect
    .poll(() => (link = outbox.messages.findLast((m) => m.to === to && m.link.includes(page))?.link), { timeout: 5000 })
    .toBeDefined();
  return new URL(link!).searchParams.get("token")!;
}

/** The code of the latest sign-in code mail to `to`. */
async function mailedCode(to: string): Promise<string> {
  const outbox = services.mailer as MemoryOutbox;
  let subject: string | undefined;
  await expect
    .poll(() => (subject = outbox.messages.findLast((m) => m.to === to && m.subject.startsWith("Your sign-in code:"))?.subject), { timeout: 5000 })
    .toBeDefined();
  return subject!.slice(-6);
}

describe("plain JSON over /api", () => {
  it("registers, logs in and reads me with plain JSON bodies and a bearer token", async () => {
    const account = newAccount();
    const register = await api("POST", "/auth/register", { body: { ...account, email: ` ${account.email.toUpperCase()} `, role: "admin" } });
    expect(register.status).toBe(200);
    expect(register.json).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      tokenType: "Bearer",
      expiresIn: 900,
      user: {
        id: expect.any(String),
        email: account.email,
        name: account.name,
        emailVerified: false,
        createdAt: expect.any(String),
        twoFactorEnabled: false,
        roles: [],
      },
    });
    expect(new Date(register.json.user.createdAt).toISOString()).toBe(register.json.user.createdAt);

    const login = await api("POST", "/auth/login", { body: { email: account.email, password: account.password } });
    expect(login.status).toBe(200);
    expect(login.json.mfaRequired).toBe(false);
    const me = await api("GET", "/auth/me", { token: login.json.accessToken });
    expect(me.status).toBe(200);
    expect(me.json).toEqual({ ...register.json.user, permissions: [], impersonatedBy: null });
    expect(me.res.headers.get("cache-control")).toBe("no-store");
    expect(me.res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(me.res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect((await api("GET", "/health")).json).toEqual({ status: "ok", db: "ok" });
  });

  it("builds the context as /trpc does: client IP, user agent, request id", async () => {
    const account = newAccount();
    const register = await api("POST", "/auth/register", { body: account, headers: { "user-agent": "rest-client/1.0", "x-request-id": "rest-ctx-1" } });
    expect(register.res.headers.get("x-request-id")).toBe("rest-ctx-1");
    const sessions = await api("GET", "/auth/sessions", { token: register.json.accessToken });
    expect(sessions.json).toEqual([
      { id: expect.any(String), createdAt: expect.any(String), lastUsedAt: expect.any(String), userAgent: "rest-client/1.0", ip: "127.0.0.1", current: true },
    ]);
  });

  it("accepts a bodiless POST on a procedure without input", async () => {
    const { accessToken } = await registered();
    const res = await fetch(`${base}/api/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${accessToken}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });
    expect((await api("GET", "/auth/me", { token: accessToken })).json.error.code).toBe("SESSION_REVOKED");
  });

  it("reads a query's input from its query string, typed by the schema's top-level fields", () => {
    const schema = z.object({ limit: z.number().int(), active: z.boolean(), tags: z.array(z.string()), q: z.string() });
    expect(queryInput(schema, "/api/x?limit=10&active=false&tags=a&tags=b&q=12")).toEqual({ limit: 10, active: false, tags: ["a", "b"], q: "12" });
    expect(queryInput(undefined, "/api/x?limit=10")).toBeUndefined();
  });
});

describe("errors as { error: { code, message } }", () => {
  it("answers the statuses and appCodes of /trpc", async () => {
    const account = await registered();
    expect(await api("POST", "/auth/register", { body: { email: account.email, password: "another long password", name: "X" } }).then((r) => [r.status, r.json])).toEqual([
      409,
      { error: { code: "EMAIL_TAKEN", message: "An account with this email already exists" } },
    ]);
    expect(await api("POST", "/auth/login", { body: { email: account.email, password: "wrong password" } }).then((r) => [r.status, r.json])).toEqual([
      401,
      { error: { code: "INVALID_CREDENTIALS", message: "Invalid email or password" } },
    ]);
    expect(await api("GET", "/auth/me").then((r) => [r.status, r.json])).toEqual([401, { error: { code: "TOKEN_MISSING", message: "Missing bearer token" } }]);
    expect(await api("GET", "/auth/me", { token: "not-a-jwt" }).then((r) => [r.status, r.json.error.code])).toEqual([401, "TOKEN_INVALID"]);
    expect(await api("POST", "/auth/revokeSession", { token: account.accessToken, body: { sessionId: "nope" } }).then((r) => [r.status, r.json])).toEqual([
      404,
      { error: { code: "NOT_FOUND", message: expect.any(String) } },
    ]);
    expect(await api("POST", "/auth/refresh", { body: { refreshToken: "a.b" } }).then((r) => [r.status, r.json.error.code])).toEqual([401, "REFRESH_TOKEN_INVALID"]);
  });

  it("reports validation failures with fieldErrors", async () => {
    const { status, json, res } = await api("POST", "/auth/register", { body: { email: "not-an-email", password: "short", name: "" } });
    expect(status).toBe(400);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(json).toEqual({
      error: {
        code: "VALIDATION_FAILED",
        message: expect.stringMatching(/^Invalid input: email: .*; password: .*; name: /),
        fieldErrors: { email: [expect.any(String)], password: [expect.any(String)], name: [expect.any(String)] },
      },
    });
    const weak = await api("POST", "/auth/register", { body: { email: "weak@example.com", password: "password", name: "W" } });
    expect([weak.status, weak.json.error.code]).toEqual([400, "WEAK_PASSWORD"]);
  });

  it("refuses unknown paths (404), other methods (405), non-JSON (415), bad JSON (400) and big bodies (413)", async () => {
    expect(await api("GET", "/auth/nope").then((r) => [r.status, r.json])).toEqual([404, { error: { code: "NOT_FOUND", message: "Not found" } }]);
    expect((await api("GET", "")).status).toBe(404);
    expect((await api("GET", "/auth/ME")).status).toBe(404);
    const get = await api("GET", "/auth/login");
    expect([get.status, get.res.headers.get("allow"), get.json]).toEqual([405, "POST", { error: { code: "METHOD_NOT_SUPPORTED", message: "Method not supported" } }]);
    expect((await api("POST", "/auth/me", { body: {} })).res.headers.get("allow")).toBe("GET");
    const form = await api("POST", "/auth/login", { body: "email=a%40b.c&password=x", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect([form.status, form.json.error.code]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
    const text = await api("POST", "/auth/login", { body: "{}", headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(415);
    const broken = await api("POST", "/auth/login", { body: "{not json" });
    expect([broken.status, broken.json]).toEqual([400, { error: { code: "VALIDATION_FAILED", message: "Request body is not valid JSON" } }]);
    const array = await api("POST", "/auth/login", { body: [] });
    expect([array.status, array.json.error.code]).toEqual([400, "VALIDATION_FAILED"]);
    const big = await api("POST", "/auth/login", { body: { email: "a@example.com", password: "x".repeat(110 * 1024) } });
    expect([big.status, big.json, big.res.headers.get("cache-control")]).toEqual([
      413,
      { error: { code: "PAYLOAD_TOO_LARGE", message: "Request body too large" } },
      "no-store",
    ]);
  });

  it("answers RATE_LIMITED with 429 and Retry-After", async () => {
    const limited = await testServices(services.db, { env: { AUTH_RATE_LIMIT_PER_MINUTE: "2" } });
    const url = (await startTestServer(limited)).url;
    const login = () =>
      fetch(`${url}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "nobody@example.com", password: "whatever password" }),
      });
    expect((await login()).status).toBe(401);
    expect((await login()).status).toBe(401);
    const refused = await login();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await refused.json()).toEqual({ error: { code: "RATE_LIMITED", message: expect.any(String) } });
  });
});

describe("GET /openapi.json", () => {
  let doc: any;
  const ajv = new Ajv2020({ strict: false, allErrors: true });

  /** A schema with `#/components/schemas/...` references inlined. */
  function resolve(schema: any): any {
    if (Array.isArray(schema)) return schema.map(resolve);
    if (typeof schema !== "object" || schema === null) return schema;
    if (typeof schema.$ref === "string") return resolve(doc.components.schemas[schema.$ref.replace("#/components/schemas/", "")]);
    return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, resolve(v)]));
  }

  function expectMatches(schema: unknown, value: unknown, where: string) {
    const validate = ajv.compile(resolve(schema) as object);
    expect(validate(value) ? [] : validate.errors, `${where}: ${JSON.stringify(value)}`).toEqual([]);
  }

  beforeAll(async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    doc = await res.json();
  });

  it("describes every procedure of docs/API.md, with bearer security where needed", () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.servers).toEqual([{ url: "/api" }]);
    expect(doc.components.securitySchemes).toEqual({ bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } });
    const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item as object).map((method) => `${method.toUpperCase()} ${path}`));
    expect(operations.sort()).toEqual([...CONTRACT].sort());
    for (const op of CONTRACT) {
      const [method, path] = op.split(" ") as [string, string];
      const operation = doc.paths[path][method.toLowerCase()];
      expect(operation.security, op).toEqual(BEARER.has(op) ? [{ bearerAuth: [] }] : undefined);
      expect(operation.summary, op).toEqual(expect.any(String));
      expect(operation.responses["200"].content["application/json"].schema, op).toBeDefined();
      for (const [status, response] of Object.entries<any>(operation.responses)) {
        if (status !== "200") expect(response.content["application/json"].schema, `${op} ${status}`).toEqual({ $ref: "#/components/schemas/Error" });
      }
      if (BEARER.has(op)) expect(operation.responses["401"].description, op).toContain("TOKEN_EXPIRED");
    }
    expect(doc.paths["/auth/register"].post.requestBody.content["application/json"].schema.required).toEqual(["email", "password", "name"]);
    expect(doc.paths["/auth/register"].post.responses["409"].description).toBe("EMAIL_TAKEN");
    expect(doc.paths["/auth/login"].post.responses["429"].headers["Retry-After"]).toBeDefined();
  });

  it("describes login's output as the union of a session and a second-factor challenge, told apart by mfaRequired", () => {
    const schema = resolve(doc.paths["/auth/login"].post.responses["200"].content["application/json"].schema);
    const variants: any[] = schema.oneOf ?? schema.anyOf;
    expect(variants).toHaveLength(2);
    expect(variants.map((v) => v.properties.mfaRequired.const).sort()).toEqual([false, true]);
    const session = variants.find((v) => v.properties.mfaRequired.const === false);
    const challenge = variants.find((v) => v.properties.mfaRequired.const === true);
    expect(session.required).toEqual(expect.arrayContaining(["accessToken", "refreshToken", "user", "mfaRequired"]));
    expect(challenge.required.sort()).toEqual(["expiresIn", "methods", "mfaRequired", "mfaToken"]);
    expect(challenge.properties.methods.items.enum.sort()).toEqual(["passkey", "recovery_code", "totp"]);
    expectMatches(schema, { mfaRequired: true, mfaToken: "x.y", methods: ["totp"], expiresIn: 300 }, "challenge");
  });

  it("walks the document: every operation, called as documented, answers a documented status and shape", async () => {
    const seen: string[] = [];
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        const op = `${method.toUpperCase()} ${path}`;
        const account = await registered();
        // An admin operation is walked by an admin, on another (plain) user.
        const permission: string | undefined = operation["x-permission"];
        if (permission) await changeRoles(services, account.userId, () => ["admin"], { id: null, meta: { ip: null, userAgent: null } });
        const target = permission ? await registered() : account;
        const sessions = await api("GET", "/auth/sessions", { token: account.accessToken });
        const mfa = await prepareMfa(path, account);
        const samples: Record<string, () => Promise<unknown> | unknown> = {
          email: () => (path === "/auth/register" ? newAccount().email : account.email),
          password: () => account.password,
          name: () => "Walker",
          refreshToken: () => account.refreshToken,
          sessionId: () => sessions.json[0].id,
          currentPassword: () => account.password,
          newPassword: () => "a brand new passphrase 2",
          code: () =>
            path === "/auth/exchangeOAuthCode"
              ? issueOAuthCode(services.prisma, { provider: "github", subject: `walk-${Math.random()}`, email: newAccount().email, emailVerified: true, name: "Walker" }, new Date())
              : mfa.code!,
          provider: () => "github",
          redirect: () => "http://localhost:3000/after-link",
          mfaToken: () => mfa.mfaToken!,
          response: () => WELL_FORMED_ASSERTION,
          userId: () => target.userId,
          reason: () => "walking the document",
          roles: () => ["support"],
          challengeId: async () => (await api("POST", "/passkey/authenticationOptions")).json.challengeId,
          // A stored passkey to remove (adding one needs an authenticator).
          id: async () =>
            path === "/auth/unlinkIdentity"
              ? (await services.db.prisma.oAuthIdentity.create({ data: { userId: account.userId, provider: "github", subject: `walk-${Math.random()}` } })).id
              : (
                  await services.db.prisma.passkey.create({
                    data: { userId: account.userId, credentialId: `walk-${Date.now()}-${Math.random()}`, publicKey: new Uint8Array(1), name: "Walk" },
                  })
                ).id,
          url: () => "http://127.0.0.1:9/hooks",
          events: () => ["user.created"],
          webhookId: async () => (await createWebhook(services, { url: "http://127.0.0.1:9/hooks", events: ["user.created"] }, null)).id,
          // A delivery to redeliver: an endpoint, then an event for it.
          deliveryId: async () => {
            const { id } = await createWebhook(services, { url: "http://127.0.0.1:9/hooks", events: ["user.created"] }, null);
            await registered();
            return (await services.db.prisma.webhookDelivery.findFirstOrThrow({ where: { webhookId: id } })).id;
          },
          token: async () => {
            if (path === "/auth/verifyEmail") return mailedToken(account.email, "verify-email");
            if (path === "/auth/consumeMagicLink") {
              await api("POST", "/auth/requestMagicLink", { body: { email: account.email } });
              return mailedToken(account.email, "magic-link");
            }
            await api("POST", "/auth/requestPasswordReset", { body: { email: account.email } });
            return mailedToken(account.email, "reset-password");
          },
        };
        let body: Record<string, unknown> | undefined;
        const schema = operation.requestBody?.content["application/json"].schema;
        if (schema) {
          body = {};
          for (const field of Object.keys(schema.properties)) {
            expect(samples[field], `${op}: a sample value for "${field}"`).toBeDefined();
            body[field] = await samples[field]!();
          }
        }
        // Required query parameters of a GET (admin.getUser's userId).
        const query = new URLSearchParams();
        for (const parameter of operation.parameters ?? []) {
          if (!parameter.required) continue;
          expect(samples[parameter.name], `${op}: a sample value for "${parameter.name}"`).toBeDefined();
          query.set(parameter.name, String(await samples[parameter.name]!()));
        }
        const url = query.size > 0 ? `${path}?${query}` : path;
        const token = operation.security ? account.accessToken : undefined;
        if (permission) {
          // Without the permission: the documented 403, before the input is even read.
          const plain = await api(method.toUpperCase(), url, { body, token: (await registered()).accessToken });
          expect({ status: plain.status, code: plain.json.error.code }, op).toEqual({ status: 403, code: "FORBIDDEN" });
          expect(operation.responses["403"].description, op).toContain("FORBIDDEN");
          expect(operation.description, op).toContain(permission);
        }
        const { status, json } = await api(method.toUpperCase(), url, { body, token });
        if (NEEDS_AUTHENTICATOR.has(op)) {
          expect({ status, code: json.error.code }, op).toEqual({ status: 401, code: "PASSKEY_INVALID" });
          expect(operation.responses["401"].description, op).toContain("PASSKEY_INVALID");
          expectMatches(operation.responses["401"].content["application/json"].schema, json, `${op} 401`);
        } else {
          expect(status, `${op}: ${JSON.stringify(json)}`).toBe(200);
          expectMatches(operation.responses["200"].content["application/json"].schema, json, op);
        }

        if (operation.security) {
          const anonymous = await api(method.toUpperCase(), url, { body });
          expect(anonymous.status, op).toBe(401);
          expectMatches(operation.responses["401"].content["application/json"].schema, anonymous.json, `${op} 401`);
        }
        if (schema) {
          const empty = await api(method.toUpperCase(), path, { body: {}, token: permission ? account.accessToken : (await registered()).accessToken });
          expect(empty.status, `${op} with {}`).toBe(400);
          expect(operation.responses["400"].description, op).toContain("VALIDATION_FAILED");
          expectMatches(operation.responses["400"].content["application/json"].schema, empty.json, `${op} 400`);
        }
        seen.push(op);
      }
    }
    expect(seen.sort()).toEqual([...CONTRACT].sort());
  }, 120_000);
});
