/**
 * Passkeys end to end, in real headless Chromium with its virtual WebAuthn
 * authenticator (DevTools protocol `WebAuthn.addVirtualAuthenticator`: CTAP2,
 * internal transport, resident keys, user verification). A page served on
 * http://localhost (a secure context) uses the typed client and
 * @simplewebauthn/browser, bundled by esbuild, against the real server on
 * port 0: register a passkey, sign out, sign in with it. The negative cases
 * use responses the browser really produced: from an origin that is not
 * allowed, on a spent challenge, naming another account, for a removed
 * passkey, with a counter that went backwards, without user verification.
 *
 * Needs /usr/bin/chromium: with CI=true a missing browser fails the test,
 * elsewhere it is skipped with a message saying so.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium, type Browser, type CDPSession, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../server/services.ts";
import { callerFor, newAccount, signedIn } from "./helpers/caller.ts";
import { openTestDatabase } from "./helpers/database.ts";
import { expectTRPCError } from "./helpers/errors.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { expectNoChange } from "./helpers/rows.ts";
import { testServices } from "./helpers/services.ts";
import { totpCode } from "./helpers/totp.ts";
import type { Database } from "../server/db/database.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === "true";
const SKIP_REASON = `${CHROMIUM} is not installed (apt-get install -y chromium): passkey browser tests skipped`;
if (!hasChromium && !inCi) console.warn(`tests/passkeys.test.ts: ${SKIP_REASON}`);

type Outcome<T> = { ok: true; value: T } | { ok: false; appCode: string | null; message: string };

let db: Database;
let services: Services;
let gatehouse: string;
let pageOrigin: string;
let otherOrigin: string;
let browser: Browser;
const pageServers: Server[] = [];

let script = "";

/** Serves the test page and its bundle on http://localhost:<port>; the page calls Gatehouse at `gatehouse`. */
async function servePage(): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url === "/app.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(script);
    } else if (req.url === "/") {
      const config = `<script>GATEHOUSE_URL=${JSON.stringify(`${gatehouse}/trpc`)}</script>`;
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(`<!doctype html><title>passkeys</title>${config}<script type="module" src="/app.js"></script>`);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  pageServers.push(server);
  // localhost, not 127.0.0.1: an IP address cannot be a WebAuthn RP ID.
  return `http://localhost:${(server.address() as AddressInfo).port}`;
}

/** The page's script: tests/browser/passkey-page.ts with the typed client and @simplewebauthn/browser, bundled. */
async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("./browser/passkey-page.ts", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "chrome120",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

beforeAll(async () => {
  if (!hasChromium) return;
  db = await openTestDatabase();
  script = await bundle();
  // Two page origins on the RP ID "localhost": only the first is an allowed WebAuthn origin.
  pageOrigin = await servePage();
  otherOrigin = await servePage();
  services = await testServices(db, {
    env: { CORS_ORIGINS: `${pageOrigin},${otherOrigin}`, WEBAUTHN_RP_ID: "localhost", WEBAUTHN_ORIGINS: pageOrigin },
  });
  gatehouse = (await startTestServer(services)).url;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const server of pageServers) await new Promise((r) => server.close(r));
});

/** A fresh tab on `origin` with its own virtual platform authenticator. */
async function openPage(origin = pageOrigin): Promise<{ page: Page; cdp: CDPSession; authenticatorId: string }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => "app" in globalThis);
  return { page, cdp, authenticatorId };
}

/** Calls `window.app[name](...args)` in the page. */
async function app<T>(page: Page, name: string, ...args: unknown[]): Promise<Outcome<T>> {
  return page.evaluate(([n, a]) => (globalThis as any).app[n as string](...(a as unknown[])), [name, args] as const) as Promise<Outcome<T>>;
}

function ok<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`expected success, got ${outcome.appCode}: ${outcome.message}`);
  return outcome.value;
}

/** A user signed up in the page, with a passkey on the page's authenticator. */
async function withPasskey(name = "Laptop") {
  const tab = await openPage();
  const account = newAccount();
  const user = ok(await app<{ id: string; email: string }>(tab.page, "register", account));
  const passkey = ok(await app<{ id: string; name: string }>(tab.page, "addPasskey", name));
  return { ...tab, account, user, passkey };
}

describe.skipIf(!hasChromium && !inCi)(`passkeys in headless Chromium${hasChromium ? "" : ` (${SKIP_REASON})`}`, () => {
  it("Chromium is installed (CI must not skip the passkey tests)", () => {
    expect(existsSync(CHROMIUM), SKIP_REASON).toBe(true);
  });

  it("registers a passkey, signs out, and signs in with it: a full sign-in through the typed client", async () => {
    const { page, account, user, passkey } = await withPasskey("Laptop");
    expect(passkey).toEqual({ id: expect.any(String), name: "Laptop", createdAt: expect.any(Date), lastUsedAt: null });
    const listed = ok(await app<{ id: string }[]>(page, "list"));
    expect(listed.map((p) => p.id)).toEqual([passkey.id]);

    expect(ok(await app<{ stored: boolean }>(page, "logout"))).toEqual({ stored: false });
    expect(await app(page, "me")).toMatchObject({ ok: false });

    const signedInWithPasskey = ok(await app<{ user: { id: string; email: string }; stored: boolean }>(page, "signInWithPasskey"));
    expect(signedInWithPasskey).toEqual({ user: expect.objectContaining({ id: user.id, email: account.email }), stored: true });
    expect(ok(await app<{ id: string }>(page, "me")).id).toBe(user.id);

    const row = await db.prisma.passkey.findUniqueOrThrow({ where: { id: passkey.id } });
    expect(row.counter).toBeGreaterThan(0n);
    expect(row.lastUsedAt).not.toBeNull();
    const events = await db.prisma.authEvent.findMany({ where: { userId: user.id }, orderBy: [{ at: "asc" }, { id: "asc" }] });
    expect(events.map((e) => e.type)).toEqual(["register", "passkey_added", "logout", "passkey_login"]);
    await page.context().close();
  });

  it("asks for a discoverable credential with user verification, on the configured relying party", async () => {
    const { accessToken, user } = await callerFor(services).auth.register(newAccount());
    const creation = await callerFor(services, { token: accessToken }).passkey.registrationOptions();
    expect(creation.rp).toEqual({ id: "localhost", name: "Gatehouse" });
    expect(creation.user.id).toBe(Buffer.from(user.id).toString("base64url"));
    expect(creation.authenticatorSelection).toMatchObject({ residentKey: "required", userVerification: "required" });
    expect(creation.timeout).toBe(5 * 60 * 1000);
    const { options } = await callerFor(services).passkey.authenticationOptions();
    expect(options).toMatchObject({ rpId: "localhost", userVerification: "required", allowCredentials: [] });
  });

  it("a passkey sign-in skips the TOTP step for a user with TOTP on", async () => {
    const { page, account, user } = await withPasskey();
    const me = callerFor(services, { token: signedIn(await callerFor(services).auth.login(account)).accessToken });
    const { secret } = await me.mfa.totpSetup({ password: account.password });
    await me.mfa.totpEnable({ code: totpCode(secret, new Date()) });
    const challenge = await callerFor(services).auth.login(account);
    expect(challenge).toMatchObject({ mfaRequired: true, methods: ["totp", "recovery_code", "passkey"] });
    ok(await app(page, "logout"));
    const result = ok(await app<{ user: { id: string; twoFactorEnabled: boolean } }>(page, "signInWithPasskey"));
    expect(result.user).toMatchObject({ id: user.id, twoFactorEnabled: true });
    await page.context().close();
  });

  it("refuses an assertion made on an origin that is not in WEBAUTHN_ORIGINS, and changes nothing", async () => {
    const { page, cdp, authenticatorId } = await withPasskey();
    // The same authenticator (and credential), now on another origin of the same RP ID.
    await page.goto(`${otherOrigin}/`);
    await page.waitForFunction(() => "app" in globalThis);
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(credentials).toHaveLength(1);
    const { challengeId, response } = ok(await app<{ challengeId: string; response: any }>(page, "assertion"));
    expect(JSON.parse(Buffer.from(response.response.clientDataJSON, "base64url").toString()).origin).toBe(otherOrigin);
    const before = await db.prisma.session.count();
    await expectTRPCError(callerFor(services).passkey.authenticate({ challengeId, response }), "UNAUTHORIZED", "PASSKEY_INVALID");
    expect(await db.prisma.session.count()).toBe(before);
    await page.context().close();
  });

  it("refuses a registration made on an origin that is not in WEBAUTHN_ORIGINS", async () => {
    const { page } = await openPage(otherOrigin);
    ok(await app(page, "register", newAccount()));
    const added = await app(page, "addPasskey", "Phishing");
    expect(added).toMatchObject({ ok: false, appCode: "PASSKEY_INVALID" });
    expect(await db.prisma.passkey.count({ where: { name: "Phishing" } })).toBe(0);
    await page.context().close();
  });

  it("a challenge is single use: a replayed assertion is refused, and so is an old assertion on a new challenge", async () => {
    const { page, user } = await withPasskey();
    const { challengeId, response } = ok(await app<{ challengeId: string; response: any }>(page, "assertion"));
    // The first use over the REST bridge, as a non-TypeScript client would send it.
    const first = await fetch(`${gatehouse}/api/passkey/authenticate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ challengeId, response }),
    });
    expect(first.status).toBe(200);
    expect(((await first.json()) as { user: { id: string } }).user.id).toBe(user.id);
    await expectTRPCError(callerFor(services).passkey.authenticate({ challengeId, response }), "UNAUTHORIZED", "PASSKEY_INVALID");
    const fresh = await callerFor(services).passkey.authenticationOptions();
    await expectTRPCError(callerFor(services).passkey.authenticate({ challengeId: fresh.challengeId, response }), "UNAUTHORIZED", "PASSKEY_INVALID");
    await page.context().close();
  });

  it("a challenge expires after 5 minutes", async () => {
    const { page } = await withPasskey();
    const { challengeId, response } = ok(await app<{ challengeId: string; response: any }>(page, "assertion"));
    await db.prisma.webauthnChallenge.update({ where: { id: challengeId }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await expectTRPCError(callerFor(services).passkey.authenticate({ challengeId, response }), "UNAUTHORIZED", "PASSKEY_INVALID");
    await page.context().close();
  });

  it("refuses an assertion whose user handle names another account than the credential's", async () => {
    const alice = await withPasskey();
    const bob = await withPasskey();
    const { challengeId, response } = ok(await app<{ challengeId: string; response: any }>(alice.page, "assertion"));
    const forged = { ...response, response: { ...response.response, userHandle: Buffer.from(bob.user.id).toString("base64url") } };
    await expectTRPCError(callerFor(services).passkey.authenticate({ challengeId, response: forged }), "UNAUTHORIZED", "PASSKEY_INVALID");
    // And one user cannot remove another's passkey.
    const bobCaller = callerFor(services, { token: signedIn(await callerFor(services).auth.login(bob.account)).accessToken });
    await expectTRPCError(bobCaller.passkey.remove({ id: alice.passkey.id, password: bob.account.password }), "NOT_FOUND", "NOT_FOUND");
    expect(await db.prisma.passkey.count({ where: { id: alice.passkey.id } })).toBe(1);
    await alice.page.context().close();
    await bob.page.context().close();
  });

  it("a removed passkey no longer signs in; removing needs the password", async () => {
    const { page, account, user, passkey } = await withPasskey();
    const me = callerFor(services, { token: signedIn(await callerFor(services).auth.login(account)).accessToken });
    await expectTRPCError(me.passkey.remove({ id: passkey.id, password: "not my password" }), "FORBIDDEN", "CURRENT_PASSWORD_INVALID");
    expect(await me.passkey.remove({ id: passkey.id, password: account.password })).toEqual({ success: true });
    expect(await me.passkey.list()).toEqual([]);
    expect(await me.mfa.status()).toMatchObject({ passkeys: 0 });
    ok(await app(page, "logout"));
    // The authenticator still holds the credential; the server no longer knows it.
    expect(await app(page, "signInWithPasskey")).toMatchObject({ ok: false, appCode: "PASSKEY_INVALID" });
    const types = (await db.prisma.authEvent.findMany({ where: { userId: user.id } })).map((e) => e.type);
    expect(types).toContain("passkey_removed");
    await page.context().close();
  });

  it("refuses a signature counter that did not grow (a cloned authenticator)", async () => {
    const { page, passkey } = await withPasskey();
    await db.prisma.passkey.update({ where: { id: passkey.id }, data: { counter: 1_000_000n } });
    const { challengeId, response } = ok(await app<{ challengeId: string; response: any }>(page, "assertion"));
    await expectTRPCError(callerFor(services).passkey.authenticate({ challengeId, response }), "UNAUTHORIZED", "PASSKEY_INVALID");
    expect((await db.prisma.passkey.findUniqueOrThrow({ where: { id: passkey.id } })).counter).toBe(1_000_000n);
    await page.context().close();
  });

  it("refuses a registration whose authenticator data does not say the user was verified", async () => {
    const { page } = await openPage();
    const account = newAccount();
    ok(await app(page, "register", account));
    const registration = ok(await app<any>(page, "registrationResponse"));
    // With attestation "none" the authenticator data is not signed: clear its UV flag (bit 2 of
    // the flags byte that follows the 32-byte RP ID hash), as an authenticator without it would.
    const attestation = Buffer.from(registration.response.attestationObject, "base64url");
    const at = attestation.indexOf(createHash("sha256").update("localhost").digest());
    expect(at).toBeGreaterThan(0);
    expect(attestation[at + 32]! & 0x04).toBe(0x04);
    attestation[at + 32] = attestation[at + 32]! & ~0x04;
    const unverified = { ...registration, response: { ...registration.response, attestationObject: attestation.toString("base64url") } };
    delete unverified.response.authenticatorData;
    const me = callerFor(services, { token: signedIn(await callerFor(services).auth.login(account)).accessToken });
    await expectTRPCError(me.passkey.register({ response: unverified }), "UNAUTHORIZED", "PASSKEY_INVALID");
    expect(await me.passkey.list()).toEqual([]);
    await page.context().close();
  });

  it("refuses garbage WebAuthn responses with a clear error and changes nothing", async () => {
    const wellFormed = {
      id: "AAAA",
      rawId: "AAAA",
      type: "public-key" as const,
      response: { clientDataJSON: "e30", authenticatorData: "AAAA", signature: "AAAA" },
      clientExtensionResults: {},
    };
    const { challengeId } = await callerFor(services).passkey.authenticationOptions();
    await expectTRPCError(callerFor(services).passkey.authenticate({ challengeId, response: wellFormed }), "UNAUTHORIZED", "PASSKEY_INVALID");
    await expectNoChange(db, () =>
      expectTRPCError(callerFor(services).passkey.authenticate({ challengeId: "nope", response: wellFormed }), "UNAUTHORIZED", "PASSKEY_INVALID"),
    );
    const notBase64 = { ...wellFormed, response: { ...wellFormed.response, clientDataJSON: "not json!" } };
    await expectNoChange(db, () =>
      expectTRPCError(callerFor(services).passkey.authenticate({ challengeId, response: notBase64 }), "BAD_REQUEST", "VALIDATION_FAILED"),
    );
  });
});
