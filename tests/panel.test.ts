/**
 * `GET /panel` (docs/API.md): served outside production and with PANEL=on,
 * a 404 otherwise, a 500 (and no crash) when rendering fails; and, in real
 * headless Chromium, a person's use of it: run `auth.register` from its form,
 * paste the bearer token under Headers, run `auth.me`.
 *
 * The browser test needs Debian's Chromium at /usr/bin/chromium (`.ci/run`
 * installs it); without it the test is skipped with a message saying so.
 * Set UPDATE_PANEL_SCREENSHOT=1 to refresh docs/panel.png (the picture in docs/guide.md).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "../routers/_app.ts";
import { createPanelRoute } from "../server/http/panel.ts";
import type { Services } from "../server/services.ts";
import { openTestDatabase } from "./helpers/database.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { testServices } from "./helpers/services.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
const SKIP_REASON = `${CHROMIUM} is not installed (apt-get install -y chromium): browser test skipped`;
if (!hasChromium) console.warn(`tests/panel.test.ts: ${SKIP_REASON}`);

const SCREENSHOT = fileURLToPath(new URL("../docs/panel.png", import.meta.url));

let services: Services;
let base: string;

beforeAll(async () => {
  services = await testServices(await openTestDatabase());
  base = (await startTestServer(services)).url;
});

describe("GET /panel", () => {
  it("serves the panel page with every procedure, the /trpc URL and superjson", async () => {
    const res = await fetch(`${base}/panel`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await res.text();
    for (const name of ["register", "login", "verifyMfa", "refresh", "logout", "logoutAll", "me", "sessions", "revokeSession", "totpSetup", "totpEnable", "registrationOptions", "authenticate", "health"]) {
      expect(html).toContain(`"${name}"`);
    }
    expect(html).toContain('"url":"/trpc"');
    expect(html).toContain('"transformer":"superjson"');
  });

  it("answers HEAD like GET without a body, and refuses other methods", async () => {
    const head = await fetch(`${base}/panel`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const post = await fetch(`${base}/panel`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect(await post.json()).toEqual({ error: { code: "METHOD_NOT_SUPPORTED", message: "Method not supported" } });
  });

  it("does not exist in production unless PANEL=on", async () => {
    const production = { NODE_ENV: "production", BCRYPT_COST: "10" };
    const off = await testServices(services.db, { env: production });
    const offRes = await fetch(`${(await startTestServer(off)).url}/panel`);
    expect(offRes.status).toBe(404);
    expect(await offRes.json()).toEqual({ error: { code: "NOT_FOUND", message: "Not found" } });

    const on = await testServices(services.db, { env: { ...production, PANEL: "on" } });
    expect((await fetch(`${(await startTestServer(on)).url}/panel`)).status).toBe(200);
  });

  it("answers 500 when rendering fails, stays up, and tries again on the next request", async () => {
    let attempts = 0;
    const route = createPanelRoute(services, () => {
      attempts++;
      if (attempts === 1) throw new Error("renderer exploded");
      return "<!doctype html><title>panel</title>";
    });
    const server = createHttpServer((req, res) => void route(req, res, req.url ?? "/"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/panel`;

    const failed = await fetch(url);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ error: { code: "INTERNAL", message: "Internal server error" } });
    const retried = await fetch(url);
    expect(retried.status).toBe(200);
    expect(await retried.text()).toContain("<title>panel</title>");
    // Cached from then on.
    await fetch(url);
    expect(attempts).toBe(2);
  });
});

describe("GET /docs", () => {
  it("serves Swagger UI for /openapi.json from this server, under the panel's switch", async () => {
    const page = await fetch(`${base}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('src="/docs/swagger-ui-bundle.js"');
    const init = await fetch(`${base}/docs/init.js`);
    expect(await init.text()).toContain('url: "/openapi.json"');
    const bundle = await fetch(`${base}/docs/swagger-ui-bundle.js`);
    expect([bundle.status, bundle.headers.get("content-type")]).toEqual([200, "text/javascript; charset=utf-8"]);
    expect((await fetch(`${base}/docs/swagger-ui.css`)).headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect((await fetch(`${base}/docs/package.json`)).status).toBe(404);
    expect((await fetch(`${base}/docs/../package.json`)).status).toBe(404);

    const off = await testServices(services.db, { env: { NODE_ENV: "production", BCRYPT_COST: "10" } });
    expect((await fetch(`${(await startTestServer(off)).url}/docs`)).status).toBe(404);
  });
});

/** A fresh headless Chromium (a new empty profile), closed and removed after `use`. */
async function withChromium(use: (page: Page) => Promise<void>): Promise<void> {
  const userDataDir = mkdtempSync(join(tmpdir(), "gatehouse-chromium-"));
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 860 },
  });
  try {
    await use(browser.pages()[0] ?? (await browser.newPage()));
  } finally {
    await browser.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

describe.skipIf(!hasChromium)(`the panel in headless Chromium${hasChromium ? "" : ` (${SKIP_REASON})`}`, () => {
  it("runs auth.register from its form, then auth.me with the bearer token under Headers", async () => {
    await withChromium(async (page) => {
      const offsite: string[] = [];
      page.on("request", (request) => {
        if (!request.url().startsWith(base)) offsite.push(request.url());
      });
      await page.goto(`${base}/panel`);
      await page.getByText("ROUTER").first().waitFor();

      // auth.register, from its form.
      const email = "ada@example.com";
      await page.getByRole("button", { name: "R auth Chevron Icon", exact: true }).click();
      await page.getByRole("button", { name: "M register", exact: true }).click();
      const register = page.locator("form", { has: page.getByRole("button", { name: /Execute register/ }) });
      await register.locator("input[id='json.email']").fill(email);
      await register.locator("input[id='json.password']").fill("analytical engine 1843");
      await register.locator("input[id='json.name']").fill("Ada Lovelace");
      const registered = page.waitForResponse((res) => res.url().includes("/trpc/auth.register"));
      await register.getByRole("button", { name: /Execute register/ }).click();
      const body = (await (await registered).json()) as [{ result: { data: { json: { accessToken: string } } } }];
      const { accessToken } = body[0].result.data.json;
      await page.getByText(`"${email}"`).first().waitFor();
      await expect(page.getByText('"Bearer"').first().isVisible()).resolves.toBe(true);

      const screenshot = await page.screenshot();
      expect(screenshot.subarray(1, 4).toString()).toBe("PNG");
      if (process.env.UPDATE_PANEL_SCREENSHOT === "1" || !existsSync(SCREENSHOT)) {
        await page.screenshot({ path: SCREENSHOT });
        expect(readFileSync(SCREENSHOT).subarray(1, 4).toString()).toBe("PNG");
      }

      // The bearer token, pasted under Headers.
      await page.getByRole("button", { name: /Headers/ }).click();
      await page.getByRole("button", { name: /Add/ }).click();
      await page.getByPlaceholder("Enter value for Key").fill("authorization");
      await page.getByPlaceholder("Enter value for Value").fill(`Bearer ${accessToken}`);
      await page.getByRole("button", { name: /Confirm/ }).click();

      // auth.me, a protected query, now answers with the new user.
      await page.getByRole("button", { name: "Q me", exact: true }).click();
      const me = page.locator("form", { has: page.getByRole("button", { name: /Execute me/ }) });
      const answered = page.waitForResponse((res) => res.url().includes("/trpc/auth.me"));
      await me.getByRole("button", { name: /Execute me/ }).click();
      const response = await answered;
      expect(response.status()).toBe(200);
      expect(response.request().headers().authorization).toBe(`Bearer ${accessToken}`);
      await expect.poll(() => page.getByText(`"${email}"`).count()).toBe(2);

      // Everything it needs comes from this server: it works offline.
      expect(offsite).toEqual([]);
    });
  }, 120_000);

  it("renders /docs: every REST operation, offline", async () => {
    await withChromium(async (page) => {
      const offsite: string[] = [];
      page.on("request", (request) => {
        if (!request.url().startsWith(base)) offsite.push(request.url());
      });
      await page.goto(`${base}/docs`);
      await page.getByText("Gatehouse", { exact: false }).first().waitFor();
      await page.locator(".opblock").first().waitFor();
      // Webhook events are listed too (by event name); REST operations are the paths.
      const operations = (await page.locator(".opblock-summary-path").allInnerTexts()).filter((p) => p.startsWith("/"));
      expect(operations.map((p) => p.replace(/\u200b/g, ""))).toEqual(expect.arrayContaining(["/auth/register", "/auth/me", "/health"]));
      // One operation per procedure the REST bridge serves.
      const procedures = Object.values(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>);
      expect(operations).toHaveLength(procedures.filter((p) => p._def.type !== "subscription").length);
      expect(operations.length).toBeGreaterThanOrEqual(29);
      expect(offsite).toEqual([]);
    });
  }, 120_000);
});
