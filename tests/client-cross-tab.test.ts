/**
 * The typed client coordinates refresh across the tabs of one origin
 * (packages/client/src/cross-tab.ts), in real headless Chromium: two pages of one origin,
 * served by a small test page that loads the built client (bundled here with
 * esbuild), refresh one session at the same moment.
 *
 * The server runs with REFRESH_REUSE_GRACE=0, so its grace window cannot hide
 * a second rotation: a tab that rotated the token again would revoke the
 * session. The control test shows exactly that with coordination turned off.
 *
 * Access tokens live 1 s and the server tolerates 5 s of clock skew, so
 * "waiting for expiry" moves the server's clock forward instead of sleeping.
 */
import { build } from "esbuild";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices, type Services } from "../server/services.ts";
import { newAccount } from "./helpers/caller.ts";
import { openTestDatabase, silentLog } from "./helpers/database.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { testConfig } from "./helpers/services.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI === "true") throw new Error(`CI=true: ${CHROMIUM} is missing (apt-get install -y chromium)`);
const SKIP_REASON = `${CHROMIUM} is not installed (apt-get install -y chromium): browser test skipped`;

/** Past the access token's 1 s lifetime and the verifier's 5 s skew allowance. */
const PAST_EXPIRY_MS = 7_000;

/**
 * The test page: the built client on `window.Gatehouse`, and one client per
 * page on `window.app`, with a store chosen by the query string: `memory`
 * (each tab its own), or `local` (localStorage, shared by the tabs, which
 * logs every pair written to it).
 */
const PAGE = `<!doctype html><meta charset="utf-8"><title>gatehouse cross-tab</title>
<script src="/client.js"></script>
<script>
  const params = new URLSearchParams(location.search);
  const local = {
    get: () => JSON.parse(localStorage.getItem("app:tokens") ?? "null"),
    set(tokens) {
      const writes = JSON.parse(localStorage.getItem("app:writes") ?? "[]");
      writes.push(tokens ? tokens.refreshToken : null);
      localStorage.setItem("app:writes", JSON.stringify(writes));
      if (tokens) localStorage.setItem("app:tokens", JSON.stringify(tokens));
      else localStorage.removeItem("app:tokens");
    },
  };
  const tokens = params.get("store") === "local" ? local : Gatehouse.memoryTokenStore();
  window.app = {
    tokens,
    gh: Gatehouse.createGatehouseClient({ url: params.get("api"), tokens, crossTab: params.get("crossTab") !== "off" }),
  };
</script>`;

let services: Services;
let api: string;
let origin: string;
let offsetMs = 0;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL("../packages/client/src/index.ts", import.meta.url))],
    bundle: true,
    format: "iife",
    globalName: "Gatehouse",
    platform: "browser",
    target: "chrome120",
    write: false,
    logLevel: "silent",
  });
  const clientJs = bundle.outputFiles[0]!.text;
  const pages: Server = createHttpServer((req, res) => {
    if (req.url === "/client.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(clientJs);
    } else if (req.url?.startsWith("/?") || req.url === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => pages.listen(0, "127.0.0.1", resolve));
  afterAll(() => new Promise<void>((resolve) => pages.close(() => resolve())));
  origin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;

  const db = await openTestDatabase();
  services = await createServices(
    testConfig({ ACCESS_TOKEN_TTL: "1s", REFRESH_REUSE_GRACE: "0", CORS_ORIGINS: origin }),
    { db, log: silentLog, now: () => new Date(Date.now() + offsetMs) },
  );
  afterAll(() => services.close());
  api = `${(await startTestServer(services)).url}/trpc`;
});

/** One fresh Chromium profile with two pages of the test origin. */
async function twoTabs(query: Record<string, string>, use: (a: Page, b: Page) => Promise<void>): Promise<void> {
  const userDataDir = mkdtempSync(join(tmpdir(), "gatehouse-cross-tab-"));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    const url = `${origin}/?${new URLSearchParams({ api, ...query })}`;
    const a = context.pages()[0] ?? (await context.newPage());
    const b = await context.newPage();
    await a.goto(url);
    await b.goto(url);
    await use(a, b);
  } finally {
    await context?.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

type Tokens = { accessToken: string; refreshToken: string };

/** Both pages call `auth.me` at the same instant (a shared deadline on the page clocks); each answers the user id or its error's appCode. */
async function meAtOnce(a: Page, b: Page): Promise<string[]> {
  const at = Date.now() + 400;
  const call = (page: Page) =>
    page.evaluate(async (startAt) => {
      await new Promise((resolve) => setTimeout(resolve, startAt - Date.now()));
      try {
        return (await (globalThis as any).app.gh.auth.me.query()).id as string;
      } catch (error) {
        return String((error as any).data?.appCode ?? (error as Error).message);
      }
    }, at);
  return Promise.all([call(a), call(b)]);
}

const storedPair = (page: Page) => page.evaluate(() => (globalThis as any).app.tokens.get() as Tokens | null);

async function rotationsOf(userId: string): Promise<number> {
  return services.db.prisma.authEvent.count({ where: { userId, type: "refresh" } });
}

describe.skipIf(!hasChromium)(`cross-tab refresh in headless Chromium${hasChromium ? "" : ` (${SKIP_REASON})`}`, () => {
  it("two tabs with their own memory stores refreshing at the same moment rotate once, share the new pair, and stay signed in", async () => {
    await twoTabs({ store: "memory" }, async (a, b) => {
      const account = newAccount();
      const registered = await a.evaluate((input) => (globalThis as any).app.gh.auth.register.mutate(input), account);
      // The second tab holds the same session (as after a sign-in it was told about).
      await b.evaluate((pair) => (globalThis as any).app.tokens.set(pair), { accessToken: registered.accessToken, refreshToken: registered.refreshToken });
      offsetMs += PAST_EXPIRY_MS;

      expect(await meAtOnce(a, b)).toEqual([registered.user.id, registered.user.id]);
      expect(await rotationsOf(registered.user.id)).toBe(1);
      const [pairA, pairB] = [await storedPair(a), await storedPair(b)];
      expect(pairA!.refreshToken).not.toBe(registered.refreshToken);
      expect(pairB!.refreshToken).toBe(pairA!.refreshToken);
      expect(await services.db.prisma.session.count({ where: { userId: registered.user.id, revokedAt: null } })).toBe(1);

      // The shared pair keeps working: the next expiry rotates once more, still one chain.
      offsetMs += PAST_EXPIRY_MS;
      expect(await meAtOnce(a, b)).toEqual([registered.user.id, registered.user.id]);
      expect(await rotationsOf(registered.user.id)).toBe(2);
      expect((await storedPair(b))!.refreshToken).toBe((await storedPair(a))!.refreshToken);
    });
  });

  it("two tabs sharing a localStorage store refreshing at the same moment: the store sees one rotation", async () => {
    await twoTabs({ store: "local" }, async (a, b) => {
      const account = newAccount();
      const registered = await a.evaluate((input) => (globalThis as any).app.gh.auth.register.mutate(input), account);
      offsetMs += PAST_EXPIRY_MS;

      expect(await meAtOnce(a, b)).toEqual([registered.user.id, registered.user.id]);
      expect(await rotationsOf(registered.user.id)).toBe(1);
      const writes = await a.evaluate(() => JSON.parse((globalThis as any).localStorage.getItem("app:writes") ?? "[]") as string[]);
      // The pair from register, then one rotated pair: a tab whose copy of
      // localStorage still lagged may store that same pair once more, but no
      // tab stores a second rotation or signs out.
      expect(writes[0]).toBe(registered.refreshToken);
      expect(new Set(writes.slice(1)).size).toBe(1);
      expect(writes.slice(1)).not.toContain(registered.refreshToken);
      expect(writes).not.toContain(null);
    });
  });

  it("control: without coordination the same race rotates the token twice and revokes the session", async () => {
    await twoTabs({ store: "memory", crossTab: "off" }, async (a, b) => {
      const account = newAccount();
      const registered = await a.evaluate((input) => (globalThis as any).app.gh.auth.register.mutate(input), account);
      await b.evaluate((pair) => (globalThis as any).app.tokens.set(pair), { accessToken: registered.accessToken, refreshToken: registered.refreshToken });
      offsetMs += PAST_EXPIRY_MS;

      const answers = await meAtOnce(a, b);
      expect(answers).toContain("REFRESH_TOKEN_REUSED");
      expect(await services.db.prisma.session.count({ where: { userId: registered.user.id, revokedAt: null } })).toBe(0);
    });
  });
});
