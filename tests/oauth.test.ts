/**
 * OAuth / OpenID Connect sign-in against a real identity provider: panva's
 * oidc-provider (examples/oidc-provider.ts) in this process, with its real
 * discovery, keys, PKCE and ID tokens. A cookie-jar browser walks the whole
 * redirect chain over HTTP hop by hop; once, headless Chromium does.
 */
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startLocalIdp, type LocalIdp } from "../examples/oidc-provider.ts";
import type { Database } from "../server/db/database.ts";
import { MemoryOutbox } from "../server/mail/outbox.ts";
import type { Services } from "../server/services.ts";
import { createWebhook } from "../server/webhooks/endpoints.ts";
import { callerFor, newAccount } from "./helpers/caller.ts";
import { CookieBrowser, locationOf } from "./helpers/cookie-browser.ts";
import { freePort } from "./helpers/ports.ts";
import { onPostgres, openTestDatabase, resetDatabase } from "./helpers/database.ts";
import { dataOf, expectError, mutate, query } from "./helpers/http.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { expectNoChange, rowCounts } from "./helpers/rows.ts";
import { TestClock, testServices } from "./helpers/services.ts";
import { totpCode } from "./helpers/totp.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI === "true") throw new Error(`CI=true: ${CHROMIUM} is missing (apt-get install -y chromium)`);

const APP_URL = "https://app.example.test";
const SPA = "https://spa.example.test";
const RETURN = `${APP_URL}/auth/callback`;
const CLIENT = { clientId: "gatehouse", clientSecret: "gatehouse-test-secret-0123456789" };

let db: Database;
let services: Services;
let clock: TestClock;
let base: string;
let idp: LocalIdp;
/** A second provider (`backup`), stopped by the "provider down" tests. */
let backup: LocalIdp;

beforeAll(async () => {
  db = await openTestDatabase();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  idp = await startLocalIdp({ ...CLIENT, redirectUris: [`${base}/oauth/oidc/callback`] });
  backup = await startLocalIdp({ ...CLIENT, redirectUris: [`${base}/oauth/backup/callback`] });
  afterAll(() => idp.close());
  afterAll(() => backup.close());
  clock = new TestClock();
  services = await testServices(db, {
    clock,
    env: {
      APP_URL,
      CORS_ORIGINS: SPA,
      PUBLIC_URL: base,
      OAUTH_PROVIDERS: "oidc,backup",
      OAUTH_OIDC_ISSUER: idp.issuer,
      OAUTH_OIDC_CLIENT_ID: CLIENT.clientId,
      OAUTH_OIDC_CLIENT_SECRET: CLIENT.clientSecret,
      OAUTH_BACKUP_ISSUER: backup.issuer,
      OAUTH_BACKUP_CLIENT_ID: CLIENT.clientId,
      OAUTH_BACKUP_CLIENT_SECRET: CLIENT.clientSecret,
    },
  });
  afterAll(() => services.close());
  await startTestServer(services, port);
});

beforeEach(async () => {
  await resetDatabase(db);
});

afterEach(() => services.background.drain());

interface Login {
  email: string;
  verified: boolean;
  name?: string;
}

/**
 * Follows the chain from a provider authorization URL through the provider's
 * login page (submitting `login`) to Gatehouse's callback URL, which it
 * returns without following.
 */
async function throughProvider(browser: CookieBrowser, authorize: URL, login: Login, provider = "oidc"): Promise<URL> {
  let next = authorize;
  for (let hop = 0; hop < 10; hop++) {
    if (next.href.startsWith(`${base}/oauth/${provider}/callback`)) return next;
    const response = await browser.request(next);
    if (response.status === 200 && /\/interaction\//.test(next.pathname)) {
      expect(await response.text()).toContain('name="email"');
      const form: Record<string, string> = { email: login.email, name: login.name ?? "Provider Name" };
      if (login.verified) form.email_verified = "true";
      next = locationOf(await browser.request(next, { form }), next);
      continue;
    }
    next = locationOf(response, next);
  }
  throw new Error("the provider never redirected back");
}

/** GET /oauth/<provider>/start: the provider's authorization URL. */
async function start(browser: CookieBrowser, redirect = RETURN, provider = "oidc"): Promise<URL> {
  const response = await browser.request(`${base}/oauth/${provider}/start?redirect=${encodeURIComponent(redirect)}`);
  expect(response.status).toBe(302);
  expect(response.headers.get("referrer-policy")).toBe("no-referrer");
  return locationOf(response, base);
}

/** Runs the callback and returns where Gatehouse sends the browser. */
async function callback(browser: CookieBrowser, url: URL): Promise<URL> {
  return locationOf(await browser.request(url), base);
}

/** A whole browser sign-in up to the redirect back to the app; the redirect's URL. */
async function signInAtProvider(login: Login, browser = new CookieBrowser()): Promise<URL> {
  return callback(browser, await throughProvider(browser, await start(browser), login));
}

async function exchange(code: string) {
  return mutate(base, "auth.exchangeOAuthCode", { code });
}

/** Signs in through the provider and exchanges the code; the AuthResult. */
async function oauthSignIn(login: Login) {
  const back = await signInAtProvider(login);
  expect(back.origin + back.pathname).toBe(RETURN);
  const code = back.searchParams.get("code")!;
  expect(code).toMatch(/^[0-9a-f-]{36}\.[\w-]{43}$/);
  return dataOf(await exchange(code));
}

async function verifiedAccount() {
  const account = newAccount();
  const registered = await callerFor(services).auth.register(account);
  await services.background.drain();
  const mail = (services.mailer as MemoryOutbox).messages.findLast((m) => m.to === account.email && m.link.includes("/verify-email"))!;
  await callerFor(services).auth.verifyEmail({ token: new URL(mail.link).searchParams.get("token")! });
  return { account, user: registered.user, token: registered.accessToken };
}

const db_ = () => (onPostgres ? "PostgreSQL" : "PGlite");

describe(`OAuth sign-in with a real OpenID provider (${db_()})`, () => {
  it("a new user: the provider's verified email creates an account without a password, and the identity", async () => {
    const email = `new-${Date.now()}@example.com`;
    const result = await oauthSignIn({ email, verified: true, name: "Ada Provider" });
    expect(result).toMatchObject({ mfaRequired: false, tokenType: "Bearer", user: { email, name: "Ada Provider", emailVerified: true } });
    const user = await db.prisma.user.findUniqueOrThrow({ where: { email }, include: { identities: true, events: true } });
    expect(user.passwordHash).toBeNull();
    expect(user.identities).toHaveLength(1);
    expect(user.identities[0]).toMatchObject({ provider: "oidc", email, emailVerified: true });
    expect(user.events.map((e) => e.type).sort()).toEqual(["identity_linked", "login", "register"]);
    const identities = dataOf(await query(base, "auth.identities", undefined, { token: result.accessToken }));
    expect(identities).toEqual([{ id: user.identities[0]!.id, provider: "oidc", email, createdAt: expect.any(String), lastUsedAt: expect.any(String) }]);
  });

  it("a returning user signs in to the same account; nothing new is created", async () => {
    const email = `back-${Date.now()}@example.com`;
    const first = await oauthSignIn({ email, verified: true });
    const before = await rowCounts(db);
    const second = await oauthSignIn({ email, verified: true });
    expect(second.user.id).toBe(first.user.id);
    const after = await rowCounts(db);
    expect({ users: after.users, identities: after.oauthIdentities }).toEqual({ users: before.users, identities: before.oauthIdentities });
  });

  it("auto-links to an existing account when the provider and the account both have the email verified", async () => {
    const { account, user } = await verifiedAccount();
    const result = await oauthSignIn({ email: account.email, verified: true });
    expect(result.user.id).toBe(user.id);
    const identities = await db.prisma.oAuthIdentity.findMany({ where: { userId: user.id } });
    expect(identities).toHaveLength(1);
    expect(await db.prisma.authEvent.count({ where: { userId: user.id, type: "identity_linked" } })).toBe(1);
  });

  it("refuses to auto-link when the provider does not assert the email verified (the takeover case): ACCOUNT_LINK_REQUIRED, no identity, no session", async () => {
    const { account, user } = await verifiedAccount();
    const back = await signInAtProvider({ email: account.email, verified: false });
    const before = await rowCounts(db);
    expectError(await exchange(back.searchParams.get("code")!), 409, "ACCOUNT_LINK_REQUIRED");
    const after = await rowCounts(db);
    expect(after).toEqual({ ...before, usedOauthCodes: before.usedOauthCodes + 1 });
    expect(await db.prisma.oAuthIdentity.count({ where: { userId: user.id } })).toBe(0);
  });

  it("refuses to auto-link to an account whose own email is unverified, even when the provider's is verified", async () => {
    const account = newAccount();
    await callerFor(services).auth.register(account);
    const back = await signInAtProvider({ email: account.email, verified: true });
    expectError(await exchange(back.searchParams.get("code")!), 409, "ACCOUNT_LINK_REQUIRED");
    expect(await db.prisma.oAuthIdentity.count()).toBe(0);
  });

  it("explicit linking: a signed-in user links a provider account with another, unverified email, and then signs in with it", async () => {
    const { user, token } = await verifiedAccount();
    const link = dataOf<{ url: string }>(await mutate(base, "auth.linkOAuth", { provider: "oidc", redirect: `${SPA}/settings` }, { token }));
    const browser = new CookieBrowser();
    const back = await callback(browser, await throughProvider(browser, new URL(link.url), { email: `other-${Date.now()}@example.org`, verified: false }));
    expect(back.href).toBe(`${SPA}/settings?linked=oidc`);
    const identities = dataOf<{ provider: string }[]>(await query(base, "auth.identities", undefined, { token }));
    expect(identities.map((i) => i.provider)).toEqual(["oidc"]);
    expect(await db.prisma.authEvent.count({ where: { userId: user.id, type: "identity_linked" } })).toBe(1);
    const again = await signInAtProvider({ email: (await db.prisma.oAuthIdentity.findFirstOrThrow()).email!, verified: false });
    expect(dataOf(await exchange(again.searchParams.get("code")!)).user.id).toBe(user.id);
  });

  it("explicit linking refuses a provider account linked to another user (IDENTITY_TAKEN) and a session revoked before the callback (SESSION_REVOKED)", async () => {
    const email = `taken-${Date.now()}@example.com`;
    const owner = await oauthSignIn({ email, verified: true });
    const { token } = await verifiedAccount();
    const browser = new CookieBrowser();
    const taken = dataOf<{ url: string }>(await mutate(base, "auth.linkOAuth", { provider: "oidc", redirect: RETURN }, { token }));
    const back = await callback(browser, await throughProvider(browser, new URL(taken.url), { email, verified: true }));
    expect(back.href).toBe(`${RETURN}?error=IDENTITY_TAKEN`);
    expect(await db.prisma.oAuthIdentity.findMany({ select: { userId: true } })).toEqual([{ userId: owner.user.id }]);

    const revoked = dataOf<{ url: string }>(await mutate(base, "auth.linkOAuth", { provider: "oidc", redirect: RETURN }, { token }));
    dataOf(await mutate(base, "auth.logout", undefined, { token }));
    const second = new CookieBrowser();
    const after = await callback(second, await throughProvider(second, new URL(revoked.url), { email: `fresh-${Date.now()}@example.com`, verified: true }));
    expect(after.href).toBe(`${RETURN}?error=SESSION_REVOKED`);
    expect(await db.prisma.oAuthIdentity.count()).toBe(1);
    expectError(await mutate(base, "auth.linkOAuth", { provider: "oidc", redirect: "https://evil.example/" }, { token: owner.accessToken }), 400, "OAUTH_REDIRECT_INVALID");
    expectError(await mutate(base, "auth.linkOAuth", { provider: "nope", redirect: RETURN }, { token: owner.accessToken }), 404, "OAUTH_PROVIDER_UNKNOWN");
  });

  it("refuses to unlink the last way to sign in (LAST_SIGN_IN_METHOD); with a password set, unlinking works and is recorded, also as webhooks", async () => {
    await createWebhook(services, { url: "http://127.0.0.1:9/hooks", events: ["identity.linked", "identity.unlinked"] }, null);
    const result = await oauthSignIn({ email: `last-${Date.now()}@example.com`, verified: true });
    const token = result.accessToken;
    const [identity] = dataOf<{ id: string }[]>(await query(base, "auth.identities", undefined, { token }));
    await expectNoChange(db, async () => expectError(await mutate(base, "auth.unlinkIdentity", { id: identity!.id }, { token }), 409, "LAST_SIGN_IN_METHOD"));
    expectError(await mutate(base, "auth.unlinkIdentity", { id: "00000000-0000-0000-0000-000000000000" }, { token }), 404, "NOT_FOUND");
    dataOf(await mutate(base, "auth.setPassword", { newPassword: "a fresh passphrase for this" }, { token }));
    expect(dataOf(await mutate(base, "auth.unlinkIdentity", { id: identity!.id }, { token }))).toEqual({ success: true });
    expect(await db.prisma.oAuthIdentity.count()).toBe(0);
    expect(await db.prisma.authEvent.count({ where: { userId: result.user.id, type: "identity_unlinked" } })).toBe(1);
    const deliveries = await db.prisma.webhookDelivery.findMany({ orderBy: { createdAt: "asc" }, select: { eventType: true, payload: true } });
    expect(deliveries.map((d) => [d.eventType, (d.payload as { data: unknown }).data])).toEqual([
      ["identity.linked", { userId: result.user.id }],
      ["identity.unlinked", { userId: result.user.id }],
    ]);
  });

  it("a tampered state, a replayed callback and a callback from another browser are OAUTH_STATE_INVALID and change nothing", async () => {
    const browser = new CookieBrowser();
    const returned = await throughProvider(browser, await start(browser), { email: `state-${Date.now()}@example.com`, verified: true });
    const tampered = new URL(returned);
    const state = tampered.searchParams.get("state")!;
    tampered.searchParams.set("state", `${state.slice(0, -1)}${state.endsWith("A") ? "B" : "A"}`);
    await expectNoChange(db, async () => expectRefused(browser.request(tampered), 400, "OAUTH_STATE_INVALID"));
    await expectNoChange(db, async () => expectRefused(new CookieBrowser().request(returned), 400, "OAUTH_STATE_INVALID"));
    expect((await callback(browser, returned)).searchParams.get("code")).not.toBeNull();
    await expectNoChange(db, async () => expectRefused(browser.request(returned), 400, "OAUTH_STATE_INVALID"));
  });

  it("a replayed code is OAUTH_CODE_INVALID; so is a code after its 60 seconds", async () => {
    const back = await signInAtProvider({ email: `replay-${Date.now()}@example.com`, verified: true });
    const code = back.searchParams.get("code")!;
    dataOf(await exchange(code));
    await expectNoChange(db, async () => expectError(await exchange(code), 400, "OAUTH_CODE_INVALID"));
    const late = await signInAtProvider({ email: `late-${Date.now()}@example.com`, verified: true });
    clock.advance(61);
    await expectNoChange(db, async () => expectError(await exchange(late.searchParams.get("code")!), 400, "OAUTH_CODE_INVALID"));
    expect(await db.prisma.user.count({ where: { email: { startsWith: "late-" } } })).toBe(0);
  });

  it("an ID token with the wrong nonce is refused: back to the app with error=OAUTH_CALLBACK_FAILED, no code, no account", async () => {
    const browser = new CookieBrowser();
    const authorize = await start(browser);
    authorize.searchParams.set("nonce", "a-nonce-this-sign-in-never-sent");
    const returned = await throughProvider(browser, authorize, { email: `nonce-${Date.now()}@example.com`, verified: true });
    const before = await rowCounts(db);
    const back = await callback(browser, returned);
    expect(back.href).toBe(`${RETURN}?error=OAUTH_CALLBACK_FAILED`);
    expect(await rowCounts(db)).toEqual({ ...before, usedOauthFlows: before.usedOauthFlows + 1 });
  });

  it("a sign-in the user cancels at the provider (error=access_denied) goes back to the app with error=OAUTH_CALLBACK_FAILED and creates nothing", async () => {
    const browser = new CookieBrowser();
    const authorize = await start(browser);
    const denied = new URL(`${base}/oauth/oidc/callback`);
    denied.searchParams.set("error", "access_denied");
    denied.searchParams.set("state", authorize.searchParams.get("state")!);
    denied.searchParams.set("iss", idp.issuer);
    const before = await rowCounts(db);
    expect((await callback(browser, denied)).href).toBe(`${RETURN}?error=OAUTH_CALLBACK_FAILED`);
    expect(await rowCounts(db)).toEqual({ ...before, usedOauthFlows: before.usedOauthFlows + 1 });
  });

  it("a redirect outside the allow-list is OAUTH_REDIRECT_INVALID and stores nothing; APP_URL and CORS_ORIGINS origins are allowed", async () => {
    for (const redirect of ["https://evil.example/cb", "https://app.example.test.evil.example/", "http://app.example.test/cb", "https://user@app.example.test/", "javascript:alert(1)", ""]) {
      await expectNoChange(db, async () => {
        const response = await new CookieBrowser().request(`${base}/oauth/oidc/start?redirect=${encodeURIComponent(redirect)}`);
        await expectRefused(response, 400, "OAUTH_REDIRECT_INVALID");
      });
    }
    expect((await start(new CookieBrowser(), `${SPA}/x`)).origin).toBe(idp.issuer);
    expect((await start(new CookieBrowser(), `${APP_URL}/y?z=1`)).origin).toBe(idp.issuer);
    await expectRefused(new CookieBrowser().request(`${base}/oauth/nope/start?redirect=${RETURN}`), 404, "OAUTH_PROVIDER_UNKNOWN");
  });

  it("a user with a second factor gets an MfaChallenge from an OAuth sign-in", async () => {
    const { account, token } = await verifiedAccount();
    const me = callerFor(services, { token });
    const setup = await me.mfa.totpSetup({ password: account.password });
    await me.mfa.totpEnable({ code: totpCode(setup.secret, clock.now()) });
    const result = await oauthSignIn({ email: account.email, verified: true });
    expect(result).toMatchObject({ mfaRequired: true, methods: ["totp", "recovery_code"] });
  });

  it("a provider that is down: a clear OAUTH_PROVIDER_UNAVAILABLE at start and at the callback, nothing half-created", async () => {
    const browser = new CookieBrowser();
    const returned = await throughProvider(browser, await start(browser, RETURN, "backup"), { email: `down-${Date.now()}@example.com`, verified: true }, "backup");
    await backup.close();
    const before = await rowCounts(db);
    const back = await callback(browser, returned);
    expect(back.href).toBe(`${RETURN}?error=OAUTH_PROVIDER_UNAVAILABLE`);
    expect(await rowCounts(db)).toEqual({ ...before, usedOauthFlows: before.usedOauthFlows + 1 });

    // Discovery is not cached for a provider that never answered it.
    const never = await testServices(db, {
      env: { APP_URL, PUBLIC_URL: base, OAUTH_PROVIDERS: "down", OAUTH_DOWN_ISSUER: backup.issuer, OAUTH_DOWN_CLIENT_ID: "x", OAUTH_DOWN_CLIENT_SECRET: "y" },
    });
    const { url } = await startTestServer(never);
    await expectNoChange(db, async () => {
      const response = await fetch(`${url}/oauth/down/start?redirect=${encodeURIComponent(RETURN)}`, { redirect: "manual" });
      await expectRefused(response, 503, "OAUTH_PROVIDER_UNAVAILABLE");
    });
    await never.close();
  });
});

describe.skipIf(!hasChromium)(`OAuth sign-in in headless Chromium (${db_()})`, () => {
  it("follows start → provider login page → callback → the app's redirect with a code that signs in", async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    try {
      const page = await browser.newPage();
      let landed: URL | null = null;
      // The app itself: answer its callback page and keep the URL it was opened with.
      await page.route(`${APP_URL}/**`, async (route) => {
        landed = new URL(route.request().url());
        await route.fulfill({ status: 200, contentType: "text/html", body: "<p>signed in</p>" });
      });
      await page.goto(`${base}/oauth/oidc/start?redirect=${encodeURIComponent(RETURN)}`);
      const email = `chromium-${Date.now()}@example.com`;
      await page.fill('input[name="email"]', email);
      await page.click('button[type="submit"]');
      await page.waitForURL(`${APP_URL}/**`);
      expect(landed).not.toBeNull();
      const code = landed!.searchParams.get("code")!;
      const result = dataOf(await exchange(code));
      expect(result.user).toMatchObject({ email, emailVerified: true });
    } finally {
      await browser.close();
    }
  }, 60_000);
});

/** Asserts a route's JSON refusal: this status and `{ error: { code: appCode, message } }`. */
async function expectRefused(response: Response | Promise<Response>, status: number, appCode: string): Promise<void> {
  const res = await response;
  expect({ status: res.status, body: await res.json() }).toEqual({ status, body: { error: { code: appCode, message: expect.any(String) } } });
}
