/**
 * `@gatehouse/client` as a frontend in another repository gets it: the
 * package is packed (`npm pack`, which builds it), the tarball is installed
 * into a fresh project in a temp dir beside its peer dependencies, and that
 * project does what a frontend does:
 *
 * 1. type-checks a DOM-only app (`lib: DOM, ES2022`, `types: []`, strict,
 *    bundler resolution, no `skipLibCheck`), reading nothing but the
 *    package's one declaration file; a misspelt procedure and a wrong input
 *    do not compile; the package's `AppRouter` also types tRPC's own
 *    `createTRPCClient`;
 * 2. bundles the app for the browser with esbuild (its gzip size is printed);
 * 3. runs it in headless Chromium against a live server: register, me,
 *    expiry and refresh, a wrong login read through the error helpers, logout.
 *
 * The server's clock is moved forward instead of waiting for the 1 s access
 * token to expire (as in tests/client-cross-tab.test.ts).
 */
import { build } from "esbuild";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALLOWED_IMPORTS, checkDeclarationImports, declarationImports } from "../packages/client/scripts/build.ts";
import { createServices, type Services } from "../server/services.ts";
import { newAccount } from "./helpers/caller.ts";
import { openTestDatabase, silentLog } from "./helpers/database.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { testConfig } from "./helpers/services.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const TRPC_VERSION = (JSON.parse(readFileSync(join(ROOT, "node_modules/@trpc/client/package.json"), "utf8")) as { version: string }).version;
const run = promisify(execFile);

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI === "true") throw new Error(`CI=true: ${CHROMIUM} is missing (apt-get install -y chromium)`);
const BROWSER_SKIP = `${CHROMIUM} is not installed (apt-get install -y chromium): browser run skipped`;

/** Past the access token's 1 s lifetime and the verifier's 5 s skew allowance. */
const PAST_EXPIRY_MS = 7_000;

/** The frontend: a DOM app that drives the client from `window.app`. */
const APP = `
import { appCodeOf, createGatehouseClient, isGatehouseError, memoryTokenStore, type AppCode, type Tokens } from "@gatehouse/client";

const api = new URLSearchParams(location.search).get("api") ?? "/trpc";
const tokens = memoryTokenStore();
const gh = createGatehouseClient({ url: api, tokens });

async function failure(call: () => Promise<unknown>): Promise<{ appCode: AppCode | null; invalidCredentials: boolean; message: string }> {
  try {
    await call();
    return { appCode: null, invalidCredentials: false, message: "no error" };
  } catch (err) {
    const invalidCredentials = isGatehouseError(err, "INVALID_CREDENTIALS");
    // Narrowed: data.appCode is the literal "INVALID_CREDENTIALS" here.
    const code: "INVALID_CREDENTIALS" | null = invalidCredentials ? err.data.appCode : null;
    return { appCode: appCodeOf(err), invalidCredentials: code !== null, message: err instanceof Error ? err.message : String(err) };
  }
}

const app = {
  tokens: (): Tokens | null => tokens.get(),
  async register(email: string, password: string, name: string) {
    const result = await gh.auth.register.mutate({ email, password, name });
    return { id: result.user.id, createdAtIsDate: result.user.createdAt instanceof Date };
  },
  async me() {
    const me = await gh.auth.me.query();
    return { id: me.id, email: me.email, createdAtIsDate: me.createdAt instanceof Date };
  },
  wrongLogin: (email: string) => failure(() => gh.auth.login.mutate({ email, password: "not the password at all" })),
  async logout() {
    await gh.auth.logout.mutate();
    return tokens.get();
  },
  meAfterLogout: () => failure(() => gh.auth.me.query()),
};
(window as unknown as { app: typeof app }).app = app;
`;

/** tRPC's own client on the package's links, typed by its AppRouter (what TanStack Query takes). */
const TRPC_APP = `
import { createTRPCClient } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { memoryTokenStore, type AppRouter } from "@gatehouse/client";
import { gatehouseLinks } from "@gatehouse/client/trpc";

const trpc = createTRPCClient<AppRouter>({ links: gatehouseLinks({ url: "/trpc", tokens: memoryTokenStore() }) });
export async function signIn(input: inferRouterInputs<AppRouter>["auth"]["login"]): Promise<Date | null> {
  const result: inferRouterOutputs<AppRouter>["auth"]["login"] = await trpc.auth.login.mutate(input);
  return result.mfaRequired ? null : result.user.createdAt;
}
`;

const WRONG = {
  procedure: `import { createGatehouseClient } from "@gatehouse/client";
export const me = createGatehouseClient({ url: "/trpc" }).auth.mee.query();
`,
  input: `import { createGatehouseClient } from "@gatehouse/client";
export const registered = createGatehouseClient({ url: "/trpc" }).auth.register.mutate({ email: "ada@example.com", password: 42, name: "Ada" });
`,
};

let dir: string;
let packageDir: string;
let browserJs: string;

function writeProject(name: string, files: string[], extra: Record<string, unknown> = {}): string {
  const compilerOptions = {
    target: "ES2022",
    lib: ["DOM", "ES2022"],
    types: [],
    strict: true,
    module: "ESNext",
    moduleResolution: "bundler",
    noEmit: true,
    ...extra,
  };
  writeFileSync(join(dir, name), JSON.stringify({ compilerOptions, files }, null, 2));
  return name;
}

async function tsc(project: string, ...args: string[]): Promise<{ code: number; output: string }> {
  return run(process.execPath, [TSC, "-p", project, ...args], { cwd: dir }).then(
    ({ stdout }) => ({ code: 0, output: stdout }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: `${error.stdout}${error.stderr}` }),
  );
}

/** npm install from the local cache, or from the registry for what the cache lacks. */
async function npmInstall(args: string[]): Promise<void> {
  const common = ["install", "--no-audit", "--no-fund", "--ignore-scripts", ...args];
  try {
    await run("npm", [...common, "--offline"], { cwd: dir });
  } catch {
    await run("npm", [...common, "--prefer-offline"], { cwd: dir });
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gatehouse-frontend-"));
  const packDir = join(dir, "pack");
  mkdirSync(packDir);
  const packed = await run("npm", ["pack", "--workspace", "@gatehouse/client", "--pack-destination", packDir, "--json"], { cwd: ROOT });
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  const app = join(dir, "app");
  mkdirSync(app);
  dir = app;
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "frontend", private: true, type: "module" }));
  await npmInstall([join(packDir, filename), `@trpc/client@${TRPC_VERSION}`, `@trpc/server@${TRPC_VERSION}`]);
  packageDir = join(dir, "node_modules/@gatehouse/client");
  writeFileSync(join(dir, "main.ts"), APP);
  writeFileSync(join(dir, "trpc.ts"), TRPC_APP);
  for (const [name, text] of Object.entries(WRONG)) writeFileSync(join(dir, `wrong-${name}.ts`), text);
}, 240_000);

afterAll(() => rmSync(join(dir, ".."), { recursive: true, force: true }));

describe("@gatehouse/client installed from its tarball into a DOM-only TypeScript app", () => {
  it("ships built JS and one declaration file that imports nothing (the trpc entry: @trpc/client and that file)", () => {
    const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as {
      exports: { ".": { types: string; default: string } };
      peerDependencies: Record<string, string>;
    };
    expect(manifest.exports["."]).toMatchObject({ types: "./dist/index.d.ts", default: "./dist/index.js" });
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(["@trpc/client", "@trpc/server"]);
    const dts = readFileSync(join(packageDir, "dist/index.d.ts"), "utf8");
    expect(declarationImports(dts)).toEqual([]);
    expect(ALLOWED_IMPORTS["index.d.ts"]).toEqual([]);
    expect(declarationImports(readFileSync(join(packageDir, "dist/trpc.d.ts"), "utf8")).sort()).toEqual(["./index.js", "@trpc/client"]);
    expect(dts).toMatch(/^type AppRouter = /m);
    expect(dts).toMatch(/^export type \{[^}]*\bAppRouter\b/m);
    expect(readFileSync(join(packageDir, "dist/index.js"), "utf8")).toMatch(/from "@trpc\/client"/);
  });

  it("the build's import check refuses a declaration file that reaches outside the package", () => {
    expect(() => checkDeclarationImports("index.d.ts", 'import type { Context } from "../../server/context.ts";')).toThrow(/server\/context/);
    expect(() => checkDeclarationImports("index.d.ts", 'type User = import("@prisma/client").User;')).toThrow(/@prisma\/client/);
    expect(() => checkDeclarationImports("index.d.ts", '/// <reference types="node" />')).toThrow(/reference:node/);
    expect(() => checkDeclarationImports("trpc.d.ts", 'import type { TRPCLink } from "@trpc/client";')).not.toThrow();
  });

  it("type-checks strictly without skipLibCheck, reading only the package's declaration file", async () => {
    const started = performance.now();
    const result = await tsc(writeProject("tsconfig.json", ["main.ts"]), "--listFiles");
    const seconds = (performance.now() - started) / 1000;
    console.log(`client-package: consumer type-check ${seconds.toFixed(2)} s`);
    expect(result.code, result.output).toBe(0);
    const read = result.output.split("\n").filter((line) => line.trim() !== "" && !/[/\\]lib\.[\w.]+\.d\.ts$/.test(line));
    expect(read.map((file) => relative(dir, file)).sort()).toEqual(["main.ts", "node_modules/@gatehouse/client/dist/index.d.ts"]);
  }, 60_000);

  it("refuses a misspelt procedure", async () => {
    const result = await tsc(writeProject("tsconfig.wrong-procedure.json", ["wrong-procedure.ts"]));
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/wrong-procedure\.ts\(2,\d+\): error TS2339: Property 'mee' does not exist/);
  }, 60_000);

  it("refuses a wrong input", async () => {
    const result = await tsc(writeProject("tsconfig.wrong-input.json", ["wrong-input.ts"]));
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/wrong-input\.ts\(2,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
  }, 60_000);

  it("types tRPC's own createTRPCClient on gatehouseLinks, and inferRouterOutputs, with the package's AppRouter", async () => {
    // tRPC's declarations use Disposable, so an app that imports tRPC itself needs that lib.
    const result = await tsc(writeProject("tsconfig.trpc.json", ["trpc.ts"], { lib: ["DOM", "ES2022", "ESNext.Disposable"] }));
    expect(result).toEqual({ code: 0, output: "" });
  }, 60_000);

  it("bundles for the browser with esbuild", async () => {
    const bundle = await build({
      absWorkingDir: dir,
      entryPoints: [join(dir, "main.ts")],
      bundle: true,
      minify: true,
      format: "iife",
      platform: "browser",
      target: "es2022",
      write: false,
      logLevel: "silent",
    });
    browserJs = bundle.outputFiles[0]!.text;
    const gzip = gzipSync(browserJs).length;
    console.log(`client-package: browser bundle ${(browserJs.length / 1024).toFixed(1)} KiB, ${(gzip / 1024).toFixed(1)} KiB gzip`);
    expect(browserJs).toContain("auth.register");
  }, 60_000);
});

describe.skipIf(!hasChromium)(`@gatehouse/client bundled into a page, in headless Chromium${hasChromium ? "" : ` (${BROWSER_SKIP})`}`, () => {
  let services: Services;
  let pageUrl: string;
  let browser: Browser;
  let offsetMs = 0;

  beforeAll(async () => {
    const pages: Server = createHttpServer((req, res) => {
      if (req.url === "/app.js") res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(browserJs);
      else res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(`<!doctype html><meta charset="utf-8"><title>frontend</title><script src="/app.js"></script>`);
    });
    await new Promise<void>((resolve) => pages.listen(0, "127.0.0.1", resolve));
    afterAll(() => new Promise<void>((resolve) => pages.close(() => resolve())));
    const origin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;

    const db = await openTestDatabase();
    services = await createServices(testConfig({ ACCESS_TOKEN_TTL: "1s", CORS_ORIGINS: origin }), {
      db,
      log: silentLog,
      now: () => new Date(Date.now() + offsetMs),
    });
    afterAll(() => services.close());
    const api = `${(await startTestServer(services)).url}/trpc`;
    pageUrl = `${origin}/?${new URLSearchParams({ api })}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    afterAll(() => browser.close());
  }, 120_000);

  it("registers, reads me, refreshes an expired token, reads a wrong login through the error helpers, and logs out", async () => {
    expect(browserJs, "the bundle test above must have run").toBeTypeOf("string");
    const page = await browser.newPage();
    await page.goto(pageUrl);
    const account = newAccount();
    type App = Record<string, (...args: string[]) => Promise<unknown>> & { tokens: () => { accessToken: string; refreshToken: string } | null };
    const call = <T>(name: string, ...args: string[]) =>
      page.evaluate(({ name, args }) => ((globalThis as unknown as { app: App }).app[name]!(...args) as Promise<T>), { name, args });

    const registered = await call<{ id: string; createdAtIsDate: boolean }>("register", account.email, account.password, account.name);
    expect(registered.createdAtIsDate).toBe(true);
    expect(await call("me")).toEqual({ id: registered.id, email: account.email, createdAtIsDate: true });

    const before = await page.evaluate(() => (globalThis as unknown as { app: App }).app.tokens());
    offsetMs += PAST_EXPIRY_MS;
    expect(await call("me")).toEqual({ id: registered.id, email: account.email, createdAtIsDate: true });
    const after = await page.evaluate(() => (globalThis as unknown as { app: App }).app.tokens());
    expect(after!.refreshToken).not.toBe(before!.refreshToken);
    expect(await services.db.prisma.authEvent.count({ where: { userId: registered.id, type: "refresh" } })).toBe(1);

    expect(await call("wrongLogin", account.email)).toEqual({
      appCode: "INVALID_CREDENTIALS",
      invalidCredentials: true,
      message: "Invalid email or password",
    });

    expect(await call("logout")).toBeNull();
    expect(await call("meAfterLogout")).toEqual({ appCode: "TOKEN_MISSING", invalidCredentials: false, message: "Missing bearer token" });
    await page.close();
  }, 60_000);
});
