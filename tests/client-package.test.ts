/**
 * `gatehouse/client` as a TypeScript consumer outside this repository sees it:
 * resolved through package.json "exports" to the declarations that
 * `npm run build:client-types` emits, under `moduleResolution` bundler and
 * nodenext, with the consumer's own options (no `allowImportingTsExtensions`,
 * DOM typings, full lib checking). Wrong calls must not compile.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const run = promisify(execFile);

const CONSUMER = `
import { createGatehouseClient, memoryTokenStore } from "gatehouse/client";
import type { AppRouter, Tokens } from "gatehouse/client";
import type { inferRouterOutputs } from "@trpc/server";

const tokens = memoryTokenStore();
const gh = createGatehouseClient({ url: "http://127.0.0.1:3000/trpc", tokens });

export async function signIn(email: string, password: string): Promise<Date> {
  await gh.auth.login.mutate({ email, password });
  const pair: Tokens | null = tokens.get();
  const me = await gh.auth.me.query();
  const user: inferRouterOutputs<AppRouter>["auth"]["me"] = me;
  // @ts-expect-error misspelt procedure
  await gh.auth.mee.query();
  // @ts-expect-error login without a password
  await gh.auth.login.mutate({ email });
  return pair ? user.createdAt : new Date(0);
}
`;

let dir: string;

async function tsc(args: string[], cwd: string) {
  return run(process.execPath, [TSC, ...args], { cwd }).then(
    () => ({ code: 0, output: "" }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: `${error.stdout}${error.stderr}` }),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gatehouse-consumer-"));
  // An installed copy of the package: its files, its dependencies, and its built declarations.
  const pkg = join(dir, "node_modules", "gatehouse");
  mkdirSync(pkg, { recursive: true });
  cpSync(join(ROOT, "package.json"), join(pkg, "package.json"));
  for (const entry of ["client", "routers", "server", "node_modules"]) symlinkSync(join(ROOT, entry), join(pkg, entry));
  // The consumer's own tRPC install (the client's peer dependency), for its own type imports.
  symlinkSync(join(ROOT, "node_modules", "@trpc"), join(dir, "node_modules", "@trpc"));
  const built = await tsc(["-p", join(ROOT, "tsconfig.client.json"), "--outDir", join(pkg, "dist", "types")], ROOT);
  expect(built.output).toBe("");
  writeFileSync(join(dir, "main.ts"), CONSUMER);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function consumerProject(name: string, compilerOptions: Record<string, unknown>): string {
  const base = { target: "ES2022", lib: ["ES2022", "DOM"], strict: true, skipLibCheck: false, types: [] };
  writeFileSync(join(dir, name), JSON.stringify({ compilerOptions: { ...base, ...compilerOptions }, files: ["main.ts"] }));
  return name;
}

describe("gatehouse/client in a consumer project", () => {
  it("type-checks with moduleResolution bundler", async () => {
    const project = consumerProject("tsconfig.bundler.json", { module: "ESNext", moduleResolution: "bundler", noEmit: true });
    expect(await tsc(["-p", project], dir)).toEqual({ code: 0, output: "" });
  }, 60_000);

  it("type-checks and emits with moduleResolution nodenext", async () => {
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    const project = consumerProject("tsconfig.nodenext.json", { module: "NodeNext", moduleResolution: "NodeNext", outDir: "out", declaration: true });
    expect(await tsc(["-p", project], dir)).toEqual({ code: 0, output: "" });
  }, 60_000);

  it("refuses a misspelt procedure (the @ts-expect-error lines are needed)", async () => {
    writeFileSync(join(dir, "main.ts"), CONSUMER.replaceAll("// @ts-expect-error", "//"));
    const project = consumerProject("tsconfig.bundler.json", { module: "ESNext", moduleResolution: "bundler", noEmit: true });
    const result = await tsc(["-p", project], dir);
    writeFileSync(join(dir, "main.ts"), CONSUMER);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("Property 'mee' does not exist");
    expect(result.output).toMatch(/password/);
  }, 60_000);
});
