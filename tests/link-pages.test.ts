/**
 * The links in Gatehouse's mail work on a fresh development server: they
 * follow HOST and PORT unless APP_URL is set, and `/verify-email`,
 * `/reset-password` and `/magic-link` answer a page (server/http/link-pages.ts)
 * that spends the token on a click, and `/email-code` one that signs in with
 * the mailed code typed on it, checked in headless Chromium.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../server/services.ts";
import { parseEnv } from "../server/env.ts";
import { MemoryOutbox } from "../server/mail/outbox.ts";
import { newAccount } from "./helpers/caller.ts";
import { openTestDatabase } from "./helpers/database.ts";
import { dataOf, expectError, mutate, registerOverHttp } from "./helpers/http.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { testServices } from "./helpers/services.ts";
import { totpCode } from "./helpers/totp.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI === "true") throw new Error(`CI=true: ${CHROMIUM} is missing (apt-get install -y chromium)`);
const SKIP_REASON = `${CHROMIUM} is not installed (apt-get install -y chromium): browser test skipped`;

let services: Services;
let base: string;

beforeAll(async () => {
  services = await testServices(await openTestDatabase());
  afterAll(() => services.close());
  base = (await startTestServer(services)).url;
});

/** The token of the newest mail to `email` whose link opens `path`. */
async function tokenOf(email: string, path: string): Promise<string> {
  await services.background.drain();
  const outbox = services.mailer as MemoryOutbox;
  const mail = outbox.messages.filter((m) => m.to === email && new URL(m.link).pathname === path).at(-1);
  expect(mail, `a mail to ${email} linking ${path}`).toBeDefined();
  return new URL(mail!.link).searchParams.get("token")!;
}

/** The newest sign-in code mailed to `email`, and the path its link opens. */
async function codeOf(email: string): Promise<{ code: string; path: string }> {
  await services.background.drain();
  const outbox = services.mailer as MemoryOutbox;
  const mail = outbox.messages.filter((m) => m.to === email && m.subject.startsWith("Your sign-in code:")).at(-1);
  expect(mail, `a sign-in code mailed to ${email}`).toBeDefined();
  const code = /^Your sign-in code: (\d{6})$/.exec(mail!.subject)?.[1];
  expect(code).toMatch(/^\d{6}$/);
  return { code: code!, path: new URL(mail!.link).pathname };
}

describe("mail links in development", () => {
  const appUrl = (env: Record<string, string>) => parseEnv({ NODE_ENV: "development", ...env }).appUrl;

  it("follow PORT, and HOST when it names a host, unless APP_URL is set", () => {
    expect(appUrl({})).toBe("http://localhost:3000");
    expect(appUrl({ PORT: "8080" })).toBe("http://localhost:8080");
    expect(appUrl({ PORT: "8080", HOST: "0.0.0.0" })).toBe("http://localhost:8080");
    expect(appUrl({ PORT: "8080", HOST: "gatehouse.lan" })).toBe("http://gatehouse.lan:8080");
    expect(appUrl({ PORT: "8080", APP_URL: "https://app.example.com/" })).toBe("https://app.example.com");
  });

  it("keep APP_URL's production rule: unset in production is http://localhost:3000, refused without ALLOW_INSECURE_APP_URL", () => {
    expect(() => parseEnv({ NODE_ENV: "production", PORT: "8080", JWT_SECRET: "x".repeat(40) })).toThrow(/APP_URL: "http:\/\/localhost:3000" is not https/);
  });
});

describe("the link pages on Gatehouse", () => {
  it.each(["/verify-email", "/reset-password", "/magic-link", "/email-code"])("GET %s answers a locked-down page that keeps the URL's token and email out of its HTML", async (path) => {
    const res = await fetch(`${base}${path}?token=%3Cscript%3Ealert(1)%3C%2Fscript%3E&email=%3Cscript%3Ealert(2)%3C%2Fscript%3E%40example.com`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toMatch(/^default-src 'none'; script-src 'nonce-[A-Za-z0-9+/=]+';.* frame-ancestors 'none'/);
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).not.toContain("alert(1)");
    expect(html).not.toContain("alert(2)");
    expect(html).toContain(`fetch("/trpc/" + page.procedure`);
  });

  it("HEAD /email-code answers the page's headers without a body", async () => {
    const res = await fetch(`${base}/email-code`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toMatch(/^default-src 'none'; script-src 'nonce-/);
    expect(await res.text()).toBe("");
  });

  it("refuses a POST to a link page", async () => {
    const res = await fetch(`${base}/verify-email`, { method: "POST" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });
});

describe.skipIf(!hasChromium)(`the link pages in headless Chromium${hasChromium ? "" : ` (${SKIP_REASON})`}`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    afterAll(() => browser.close());
  }, 60_000);

  /** Opens a link page at `url` (path and query), types each of `typed` into the field of that id, clicks, and returns what the page then says. */
  async function follow(url: string, typed: Record<string, string> = {}): Promise<string> {
    const page = await browser.newPage();
    try {
      await page.goto(`${base}${url}`);
      for (const [id, value] of Object.entries(typed)) await page.fill(`#${id}`, value);
      await page.click("#submit");
      await page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById("result").textContent !== "");
      return (await page.textContent("#result"))!;
    } finally {
      await page.close();
    }
  }

  const withToken = (path: string, token: string) => `${path}?token=${encodeURIComponent(token)}`;

  it("/verify-email verifies the address on a click; the spent link then says why it fails", async () => {
    const account = newAccount();
    const { user } = await registerOverHttp(base, account);
    const token = await tokenOf(account.email, "/verify-email");
    expect(await follow(withToken("/verify-email", token))).toBe("Your email address is verified. You can close this page.");
    expect((await services.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).emailVerified).toBe(true);
    expect(await follow(withToken("/verify-email", token))).toBe("Invalid or expired verification token (VERIFICATION_TOKEN_INVALID)");
  }, 60_000);

  it("/reset-password sets the new password typed on the page", async () => {
    const account = newAccount();
    await registerOverHttp(base, account);
    dataOf(await mutate(base, "auth.requestPasswordReset", { email: account.email }));
    const token = await tokenOf(account.email, "/reset-password");
    expect(await follow(withToken("/reset-password", token), { newPassword: "a brand new passphrase 2026" })).toBe("Your password has been changed. Sign in with the new one.");
    dataOf(await mutate(base, "auth.login", { email: account.email, password: "a brand new passphrase 2026" }));
    expectError(await mutate(base, "auth.login", { email: account.email, password: account.password }), 401, "INVALID_CREDENTIALS");
  }, 60_000);

  it("/magic-link signs in on a click", async () => {
    const account = newAccount();
    await registerOverHttp(base, account);
    dataOf(await mutate(base, "auth.requestMagicLink", { email: account.email }));
    const token = await tokenOf(account.email, "/magic-link");
    expect(await follow(withToken("/magic-link", token))).toBe(
      "You are signed in. (Your app's own page would keep this session; this one only shows that the link works.)",
    );
  }, 60_000);

  it("/magic-link tells an account with a second factor that the sign-in needs it, not that it is signed in", async () => {
    const account = newAccount();
    const { accessToken } = await registerOverHttp(base, account);
    const setup = dataOf<{ secret: string }>(await mutate(base, "mfa.totpSetup", { password: account.password }, { token: accessToken }));
    dataOf(await mutate(base, "mfa.totpEnable", { code: totpCode(setup.secret, new Date()) }, { token: accessToken }));
    dataOf(await mutate(base, "auth.requestMagicLink", { email: account.email }));
    const token = await tokenOf(account.email, "/magic-link");
    expect(await follow(withToken("/magic-link", token))).toBe(
      "Half signed in: your account asks for a second factor, which your app asks for next (a code from your authenticator, or a recovery code).",
    );
  }, 60_000);

  it("/email-code signs in with the mailed code typed on the page; a wrong code shows why it fails", async () => {
    const account = newAccount();
    const { user } = await registerOverHttp(base, account);
    dataOf(await mutate(base, "auth.requestEmailCode", { email: account.email }));
    const { code, path } = await codeOf(account.email);
    expect(path).toBe("/email-code");
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    expect(await follow(path, { email: account.email, code: wrong })).toBe("Invalid or expired sign-in code (EMAIL_CODE_INVALID)");
    expect(await follow(path, { email: account.email, code })).toBe(
      "You are signed in. (Your app's own page would keep this session; this one only shows that the code works.)",
    );
    // Signing in with the code proves the mailbox: the page really called auth.verifyEmailCode.
    expect((await services.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).emailVerified).toBe(true);
  }, 60_000);

  it("/email-code fills the email field from ?email= through its script, and leaves it empty without", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${base}/email-code?email=${encodeURIComponent("ada+code@example.com")}`);
      expect(await page.inputValue("#email")).toBe("ada+code@example.com");
      expect(await page.inputValue("#code")).toBe("");
      await page.goto(`${base}/email-code`);
      expect(await page.inputValue("#email")).toBe("");
      expect(await page.isVisible("#form")).toBe(true);
    } finally {
      await page.close();
    }
  }, 60_000);
});
