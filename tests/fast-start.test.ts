/**
 * A fast first start (README, "Quick start"): `npm start` rebuilds only when a
 * source changed (scripts/prepare-start.mjs), and a new embedded database is
 * loaded from the migrated template (server/db/pglite-template.ts) instead of
 * running initdb and every migration. The timings are in `npm run bench`
 * (cold-start rows); here, what makes them, and that the unpack is atomic: a
 * start killed halfway never leaves a half-written database behind.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../server/db/database.ts";
import { readTemplate, templateFile } from "../server/db/pglite-template.ts";
import { createLogger } from "../server/log.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const MIGRATIONS = readdirSync(join(ROOT, "prisma/migrations"), { withFileTypes: true }).filter((e) => e.isDirectory()).length;
const scratch = mkdtempSync(join(tmpdir(), "gatehouse-fast-start-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Opens the embedded database in `dataDir`, collecting the migration runner's messages. */
async function open(dataDir: string) {
  const messages: string[] = [];
  const log = createLogger({ logLevel: "info" } as Parameters<typeof createLogger>[0]);
  log.info = ((message: unknown) => void messages.push(String(message))) as typeof log.info;
  const db = await openDatabase({ databaseUrl: undefined, dataDir, log });
  const rows = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL", []);
  await db.close();
  return { messages, recorded: rows[0]?.n };
}

describe("the embedded database's template", () => {
  beforeAll(() => {
    // What `npm install` does (postinstall); nothing when the template exists.
    execFileSync(process.execPath, ["--import", "tsx", "scripts/pglite-template.ts"], { cwd: ROOT, stdio: "ignore" });
  }, 120_000);

  it("exists for the current migrations after install, named by their hash", () => {
    expect(templateFile()).toMatch(/node_modules\/\.cache\/gatehouse\/pglite-[0-9a-f]{16}\.tar\.gz$/);
    expect(readTemplate()?.size).toBeGreaterThan(0);
  });

  it("gives a new DATA_DIR every migration without applying one", async () => {
    const { messages, recorded } = await open(join(scratch, "fresh"));
    expect(recorded).toBe(MIGRATIONS);
    expect(messages.filter((m) => /applying migration/i.test(m))).toEqual([]);
  }, 60_000);

  it("is not used for a DATA_DIR that already holds a database: reopened, it keeps its data", async () => {
    const dir = join(scratch, "kept");
    await open(dir);
    const db = await openDatabase({ databaseUrl: undefined, dataDir: dir, log: createLogger({ logLevel: "silent" } as Parameters<typeof createLogger>[0]) });
    await db.query("CREATE TABLE kept_marker (x int)", []);
    await db.close();
    const again = await openDatabase({ databaseUrl: undefined, dataDir: dir, log: createLogger({ logLevel: "silent" } as Parameters<typeof createLogger>[0]) });
    expect(await again.query("SELECT to_regclass('kept_marker') IS NOT NULL AS kept", [])).toEqual([{ kept: true }]);
    await again.close();
  }, 60_000);

  it("leaves nothing but the database folder after a successful unpack (no partial folder)", async () => {
    const dir = join(scratch, "clean");
    await open(dir);
    expect(readdirSync(dir)).toEqual(["pglite"]);
    expect(existsSync(join(dir, "pglite", "PG_VERSION"))).toBe(true);
  }, 60_000);

  it("replaces an empty database folder", async () => {
    const dir = join(scratch, "empty");
    mkdirSync(join(dir, "pglite"), { recursive: true });
    expect((await open(dir)).recorded).toBe(MIGRATIONS);
    expect(readdirSync(dir)).toEqual(["pglite"]);
  }, 60_000);

  it("killed mid-unpack, leaves no database folder; the next start removes the partial folders and opens a new database", async () => {
    const dir = join(scratch, "killed");
    const partial = join(dir, "pglite.partial-");
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", `import { unpackTemplate } from "./server/db/pglite-template.ts"; await unpackTemplate(process.argv[1]);`, join(dir, "pglite")], { cwd: ROOT, stdio: "ignore" });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const unpacked = () => readdirSync(`${partial}${child.pid}`, { recursive: true }).length;
    const deadline = Date.now() + 30_000;
    while (!existsSync(`${partial}${child.pid}`) || unpacked() < 50) {
      expect(child.exitCode, "the unpack ended before it could be killed halfway").toBeNull();
      expect(Date.now(), "the unpack never got halfway").toBeLessThan(deadline);
      await sleep(5);
    }
    child.kill("SIGKILL");
    await exited;
    expect(existsSync(join(dir, "pglite"))).toBe(false);
    expect(unpacked()).toBeGreaterThanOrEqual(50);
    // A container's pid is often the same on every run: this process's own leftover must go too.
    mkdirSync(`${partial}${process.pid}`);
    writeFileSync(join(`${partial}${process.pid}`, "stale"), "x");
    expect((await open(dir)).recorded).toBe(MIGRATIONS);
    expect(readdirSync(dir)).toEqual(["pglite"]);
    expect(existsSync(join(dir, "pglite", "stale"))).toBe(false);
  }, 60_000);

  it("refuses a non-empty folder without PG_VERSION, naming it and what to do, and leaves it untouched", async () => {
    const dir = join(scratch, "foreign");
    mkdirSync(join(dir, "pglite"), { recursive: true });
    writeFileSync(join(dir, "pglite", "notes.txt"), "someone's files");
    const refused = await open(dir).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(refused).toContain(`the embedded database folder ${join(dir, "pglite")} is not empty but holds no database (no PG_VERSION)`);
    expect(refused).toContain("move it aside");
    expect(readdirSync(dir)).toEqual(["pglite"]);
    expect(readdirSync(join(dir, "pglite"))).toEqual(["notes.txt"]);
    expect(readFileSync(join(dir, "pglite", "notes.txt"), "utf8")).toBe("someone's files");
  }, 60_000);
});

describe("npm start's build step (scripts/prepare-start.mjs, on a scratch project)", () => {
  /**
   * A project with the layout the script checks, whose build only writes the
   * stamp and counts itself: the real build is not touched while other test
   * files run servers from it.
   */
  function scratchProject(): string {
    const dir = mkdtempSync(join(scratch, "project-"));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    write("scripts/prepare-start.mjs", readFileSync(join(ROOT, "scripts/prepare-start.mjs"), "utf8"));
    write("prisma/schema.prisma", "// schema\n");
    write("server/generated/prisma/client.ts", "export {};\n");
    write("server/generated/.schema-sha256", createHash("sha256").update("// schema\n").digest("hex"));
    write("server/main.ts", "export {};\n");
    write("routers/_app.ts", "export {};\n");
    write("tsconfig.json", "{}\n");
    write("tsconfig.build.json", "{}\n");
    const build = "node -e \"const fs=require('node:fs');fs.mkdirSync('dist/app',{recursive:true});fs.appendFileSync('builds','x');fs.writeFileSync('dist/app/.build-stamp','')\"";
    write("package.json", JSON.stringify({ name: "scratch", private: true, scripts: { build } }));
    return dir;
  }
  const prepare = (dir: string) => execFileSync(process.execPath, ["scripts/prepare-start.mjs"], { cwd: dir, stdio: "ignore" });
  const builds = (dir: string) => (existsSync(join(dir, "builds")) ? readFileSync(join(dir, "builds"), "utf8").length : 0);

  it("builds once, not again while nothing changed, and again when a source is newer than the build", () => {
    const dir = scratchProject();
    prepare(dir);
    expect(builds(dir)).toBe(1);
    prepare(dir);
    expect(builds(dir)).toBe(1);
    const built = statSync(join(dir, "dist/app/.build-stamp")).mtime;
    utimesSync(join(dir, "server/main.ts"), new Date(), new Date(built.getTime() + 60_000));
    prepare(dir);
    expect(builds(dir)).toBe(2);
  }, 60_000);
});
