/**
 * The Prisma CLI's migrate commands through the offline schema engine
 * (prisma/engine/schema-engine, chosen by prisma.config.ts unless
 * PRISMA_SCHEMA_ENGINE_BINARY names another): on a scratch database of
 * TEST_DATABASE_URL's server, `migrate deploy` applies prisma/migrations,
 * `migrate status` finds it up to date, and `migrate diff` finds no difference
 * between the migrations and prisma/schema.prisma.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase, databaseUrlFor, dropDatabase } from "./helpers/scratch-postgres.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
/** Each CLI call starts Node, loads the config, and the wasm engine: seconds. */
const CLI_TIMEOUT = 120_000;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function prisma(args: string[], databaseUrl: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      "npx",
      ["prisma", ...args],
      {
        cwd: ROOT,
        timeout: CLI_TIMEOUT,
        maxBuffer: 16 * 1024 * 1024,
        // No telemetry or update check: the CLI must not need the network.
        env: { ...process.env, DATABASE_URL: databaseUrl, CHECKPOINT_DISABLE: "1", PRISMA_HIDE_UPDATE_MESSAGE: "1" },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The whole CLI transcript, for assertion messages. */
const transcript = (r: CliResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

describe.skipIf(!TEST_DATABASE_URL)(`prisma CLI with the offline schema engine${TEST_DATABASE_URL ? "" : " (skipped: needs PostgreSQL, set TEST_DATABASE_URL)"}`, () => {
  // (This body also runs, to list the skipped tests, when the URL is unset.)
  const serverUrl = TEST_DATABASE_URL ?? "";
  const database = `${inject("runPrefix")}_prisma_cli`;
  const databaseUrl = serverUrl && databaseUrlFor(serverUrl, database);

  beforeAll(async () => {
    await createDatabase(serverUrl, database);
  });

  afterAll(async () => {
    await dropDatabase(serverUrl, database);
  });

  it("migrate deploy applies the migrations", { timeout: CLI_TIMEOUT }, async () => {
    const result = await prisma(["migrate", "deploy"], databaseUrl);
    expect(result.code, transcript(result)).toBe(0);
    expect(result.stdout, transcript(result)).toContain("20261126000000_init");
  });

  it("migrate status reports the database up to date", { timeout: CLI_TIMEOUT }, async () => {
    const result = await prisma(["migrate", "status"], databaseUrl);
    expect(result.code, transcript(result)).toBe(0);
    expect(result.stdout, transcript(result)).toMatch(/Database schema is up to date/);
  });

  it("migrate diff finds no drift between prisma/migrations and schema.prisma", { timeout: CLI_TIMEOUT }, async () => {
    const result = await prisma(
      ["migrate", "diff", "--from-migrations", "prisma/migrations", "--to-schema", "prisma/schema.prisma", "--exit-code"],
      databaseUrl,
    );
    // --exit-code: 0 when empty, 2 when there is a difference, 1 on error.
    expect(result.code, transcript(result)).toBe(0);
    expect(result.stdout, transcript(result)).toContain("No difference detected.");
  });
});

describe("the Prisma CLI on the embedded database, without DATABASE_URL (npm run db:prisma, scripts/db-prisma.ts)", () => {
  it("serves DATA_DIR's database over the wire protocol: migrate status finds it up to date", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-db-prisma-"));
    try {
      const { DATABASE_URL: _, ...env } = process.env;
      const result = await new Promise<CliResult>((resolve) => {
        execFile(
          process.execPath,
          ["--import", "tsx", "scripts/db-prisma.ts", "migrate", "status"],
          { cwd: ROOT, timeout: CLI_TIMEOUT, env: { ...env, DATA_DIR: dataDir, NODE_ENV: "development", CHECKPOINT_DISABLE: "1", PRISMA_HIDE_UPDATE_MESSAGE: "1" } },
          (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }),
        );
      });
      expect(result.code, transcript(result)).toBe(0);
      expect(result.stdout, transcript(result)).toMatch(/Datasource "db": PostgreSQL database "postgres", schema "public" at "127\.0\.0\.1:\d+"/);
      expect(result.stdout, transcript(result)).toContain("Database schema is up to date!");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, CLI_TIMEOUT);
});
