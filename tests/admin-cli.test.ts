/**
 * `npm run admin -- grant|revoke|list` as an operator runs it (a child
 * process), against the configured database: embedded PGlite in DATA_DIR, or
 * DATABASE_URL on PostgreSQL runs.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../server/db/database.ts";
import { onPostgres, scratchPostgresUrl, silentLog } from "./helpers/database.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** Each run is its own Node process opening the database: seconds, minutes on a loaded machine. */
const CLI_TIMEOUT = 180_000;

let env: Record<string, string>;
let databaseUrl: string | undefined;
const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-admin-cli-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Opens the configured database for a moment (PGlite allows one process at a time). */
async function withDatabase<T>(work: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const db = await openDatabase({ databaseUrl, dataDir, log: silentLog, poolSize: 1 });
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

function admin(...args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/admin.ts", ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, output: output.trim() }));
  });
}

beforeAll(async () => {
  databaseUrl = onPostgres ? await scratchPostgresUrl() : undefined;
  env = { NODE_ENV: "development", LOG_LEVEL: "silent", DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
  await withDatabase(async (db) => {
    for (const email of ["ada@example.com", "bob@example.com"]) {
      await db.prisma.user.create({ data: { email, name: email, passwordHash: "!" } });
    }
  });
}, CLI_TIMEOUT);

describe(`npm run admin (${onPostgres ? "PostgreSQL" : "PGlite"})`, { timeout: CLI_TIMEOUT }, () => {
  it("grants the first admin on a fresh database, any case of the email, and audits it", async () => {
    expect(await admin("grant", "ADA@example.com", "admin")).toEqual({ code: 0, output: "ada@example.com: granted admin; roles now: admin" });
    expect(await admin("grant", "ada@example.com", "admin")).toEqual({ code: 0, output: "ada@example.com: already holds admin; roles now: admin" });
    const entries = await withDatabase((db) => db.prisma.authEvent.findMany({ where: { type: "roles_changed" } }));
    expect(entries.map((e) => [e.actorId, e.reason, e.detail])).toEqual([[null, "npm run admin", "admin"]]);
  });

  it("lists the users holding a role", async () => {
    await admin("grant", "bob@example.com", "support");
    expect(await admin("list")).toEqual({ code: 0, output: "ada@example.com  admin\nbob@example.com  support" });
  });

  it("refuses to revoke the last admin (LAST_ADMIN), then revokes once there is another", async () => {
    expect(await admin("revoke", "ada@example.com", "admin")).toEqual({
      code: 1,
      output: "admin: ada@example.com is the last admin: grant admin to someone else first (LAST_ADMIN)",
    });
    await admin("grant", "bob@example.com", "admin");
    expect(await admin("revoke", "ada@example.com", "admin")).toEqual({ code: 0, output: "ada@example.com: revoked admin; roles now: (none)" });
    const roles = await withDatabase((db) => db.prisma.user.findMany({ orderBy: { email: "asc" }, select: { roles: true } }));
    expect(roles).toEqual([{ roles: [] }, { roles: ["admin", "support"] }]);
  });

  it("names an unknown email, an unknown role and a wrong usage clearly, and exits 1", async () => {
    expect(await admin("grant", "nobody@example.com", "admin")).toEqual({ code: 1, output: "admin: No user with the email nobody@example.com" });
    expect(await admin("grant", "ada@example.com", "root")).toEqual({ code: 1, output: 'admin: unknown role "root": the roles are admin, support' });
    expect((await admin("promote", "ada@example.com")).code).toBe(1);
    expect((await admin("promote", "ada@example.com")).output).toMatch(/^admin: usage: npm run admin -- grant <email> <role>/);
  });
});
