/**
 * The start-up migration runner against real databases: embedded PGlite always,
 * PostgreSQL too when TEST_DATABASE_URL is set (a scratch database is created
 * on that server and dropped afterwards). Each test starts from an empty
 * `public` schema on a reused database, since starting PGlite takes seconds.
 */
import { createHash, randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { appendFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FailedMigrationError, MigrationApplyError, MigrationChecksumError, migrate } from "../server/db/migrate.ts";
import { pgConnection, pgliteConnection, type SqlConnection } from "../server/db/sql-connection.ts";

const MIGRATIONS_DIR = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
/** Every migration of the repo, in the order they apply (test-made ones are named to sort after them). */
const MIGRATIONS = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const INIT = "20261126000000_init";
const APP_TABLES = [
  "auth_events",
  "live_events",
  "mfa_challenges",
  "oauth_codes",
  "oauth_flows",
  "oauth_identities",
  "one_time_tokens",
  "passkeys",
  "recovery_codes",
  "refresh_grace",
  "refresh_tokens",
  "sessions",
  "signing_keys",
  "totp_factors",
  "users",
  "webauthn_challenges",
  "webhook_attempts",
  "webhook_deliveries",
  "webhooks",
];
const PRISMA_MIGRATE_LOCK_KEY = 72707369;
const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
/** Why the concurrency tests are skipped on PGlite. */
const ONE_SESSION = " (skipped: PGlite has a single session; runs on PostgreSQL)";

/** A database under test: one session for the runner, and a way to open more (PostgreSQL only). */
interface Backend {
  conn: SqlConnection;
  connect?: () => Promise<{ conn: SqlConnection; close: () => Promise<void> }>;
}

const tempDirs: string[] = [];

afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A scratch copy of the real migrations folder, for tests that edit or add migrations. */
async function copyMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "gatehouse-mig-"));
  tempDirs.push(dir);
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

async function addMigration(dir: string, name: string, sql: string): Promise<void> {
  await mkdir(join(dir, name));
  await writeFile(join(dir, name, "migration.sql"), sql);
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

async function tableNames(conn: SqlConnection): Promise<string[]> {
  const { rows } = await conn.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  return rows.map((row) => row.table_name);
}

interface RecordedMigration {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

async function recorded(conn: SqlConnection): Promise<RecordedMigration[]> {
  const { rows } = await conn.query<RecordedMigration>("SELECT * FROM _prisma_migrations ORDER BY started_at, migration_name");
  return rows;
}

/** Collects the runner's messages instead of printing them. */
function quietLog(): { log: (msg: string) => void; messages: string[] } {
  const messages: string[] = [];
  return { log: (msg) => messages.push(msg), messages };
}

function defineMigrationTests(
  open: () => Promise<Backend & { close: () => Promise<void> }>,
  { multiSession }: { multiSession: boolean },
): void {
  let backend: Backend & { close: () => Promise<void> };

  beforeAll(async () => {
    backend = await open();
  }, 60_000);

  afterAll(async () => {
    await backend?.close();
  });

  beforeEach(async () => {
    await backend.conn.exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
  });

  it("applies every migration to a fresh database and records it as Prisma Migrate does", async () => {
    const { conn } = backend;
    const { log } = quietLog();

    expect(MIGRATIONS[0]).toBe(INIT);
    expect(await migrate(conn, { log })).toEqual(MIGRATIONS);

    expect(await tableNames(conn)).toEqual(["_prisma_migrations", ...APP_TABLES]);
    const [row, ...rest] = await recorded(conn);
    expect(rest.map((r) => r.migration_name)).toEqual(MIGRATIONS.slice(1));
    const script = await readFile(join(MIGRATIONS_DIR, INIT, "migration.sql"), "utf8");
    expect(row).toMatchObject({
      migration_name: INIT,
      checksum: sha256(script),
      logs: null,
      rolled_back_at: null,
      applied_steps_count: 1,
    });
    expect(row?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(row?.finished_at).toBeInstanceOf(Date);
    expect(row!.finished_at!.getTime()).toBeGreaterThanOrEqual(row!.started_at.getTime());
  });

  it("creates _prisma_migrations with the columns Prisma's schema engine creates", async () => {
    const { conn } = backend;
    await migrate(conn, { log: quietLog().log });

    const { rows } = await conn.query(
      `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(rows).toEqual([
      { column_name: "id", data_type: "character varying", character_maximum_length: 36, is_nullable: "NO", column_default: null },
      { column_name: "checksum", data_type: "character varying", character_maximum_length: 64, is_nullable: "NO", column_default: null },
      { column_name: "finished_at", data_type: "timestamp with time zone", character_maximum_length: null, is_nullable: "YES", column_default: null },
      { column_name: "migration_name", data_type: "character varying", character_maximum_length: 255, is_nullable: "NO", column_default: null },
      { column_name: "logs", data_type: "text", character_maximum_length: null, is_nullable: "YES", column_default: null },
      { column_name: "rolled_back_at", data_type: "timestamp with time zone", character_maximum_length: null, is_nullable: "YES", column_default: null },
      { column_name: "started_at", data_type: "timestamp with time zone", character_maximum_length: null, is_nullable: "NO", column_default: "now()" },
      { column_name: "applied_steps_count", data_type: "integer", character_maximum_length: null, is_nullable: "NO", column_default: "0" },
    ]);
    const { rows: keys } = await conn.query(
      "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = '_prisma_migrations'::regclass AND contype IN ('p', 'u', 'f', 'c')",
    );
    expect(keys).toEqual([{ conname: "_prisma_migrations_pkey", def: "PRIMARY KEY (id)" }]);
  });

  it("does nothing when run again", async () => {
    const { conn } = backend;
    const { log } = quietLog();
    await migrate(conn, { log });

    expect(await migrate(conn, { log })).toEqual([]);
    expect((await recorded(conn)).map((row) => row.migration_name)).toEqual(MIGRATIONS);
  });

  it("refuses to start when an applied migration was edited, naming it", async () => {
    const { conn } = backend;
    const { log } = quietLog();
    await migrate(conn, { log });
    const dir = await copyMigrations();
    await appendFile(join(dir, INIT, "migration.sql"), "\n-- edited after it was applied\n");
    await addMigration(dir, "29991231000001_next", 'CREATE TABLE "next_table" ("id" INTEGER);\n');

    const error = await migrate(conn, { dir, log }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MigrationChecksumError);
    expect((error as MigrationChecksumError).migrationNames).toEqual([INIT]);
    expect((error as Error).message).toContain(INIT);
    expect(await tableNames(conn)).not.toContain("next_table");
  });

  it("accepts an applied migration whose line endings git rewrote to CRLF, as Prisma does", async () => {
    const { conn } = backend;
    const { log } = quietLog();
    await migrate(conn, { log });
    const dir = await copyMigrations();
    const file = join(dir, INIT, "migration.sql");
    await writeFile(file, (await readFile(file, "utf8")).replaceAll("\n", "\r\n"));

    expect(await migrate(conn, { dir, log })).toEqual([]);
  });

  it("rolls back a failing migration, records no finished row for it, and applies it once fixed", async () => {
    const { conn } = backend;
    const { log } = quietLog();
    const dir = await copyMigrations();
    const broken = "29991231000001_broken";
    await addMigration(dir, broken, 'CREATE TABLE "made_before_failure" ("id" INTEGER);\nSELECT * FROM "no_such_table";\n');

    const error = await migrate(conn, { dir, log }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MigrationApplyError);
    expect((error as MigrationApplyError).migrationName).toBe(broken);
    expect((error as Error).message).toContain(broken);
    expect((error as Error).message).toContain("no_such_table");
    expect(await tableNames(conn)).not.toContain("made_before_failure");
    const rows = await recorded(conn);
    expect(rows.map((row) => [row.migration_name, row.finished_at !== null])).toEqual(MIGRATIONS.map((name) => [name, true]));

    await writeFile(join(dir, broken, "migration.sql"), 'CREATE TABLE "made_before_failure" ("id" INTEGER);\n');
    expect(await migrate(conn, { dir, log })).toEqual([broken]);
    expect(await tableNames(conn)).toContain("made_before_failure");
  });

  it("refuses to start while a migration is recorded as failed, naming it", async () => {
    const { conn } = backend;
    const { log } = quietLog();
    await migrate(conn, { log });
    // What the Prisma CLI leaves after a migration fails part-way.
    await conn.query(
      "INSERT INTO _prisma_migrations (id, checksum, migration_name, logs) VALUES ($1, $2, $3, $4)",
      ["00000000-0000-4000-8000-000000000001", sha256("x"), "29991231000001_half_done", "syntax error"],
    );

    const error = await migrate(conn, { log }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FailedMigrationError);
    expect((error as Error).message).toContain("29991231000001_half_done");
  });

  it("ignores a migration that was rolled back with prisma migrate resolve", async () => {
    const { conn } = backend;
    const { log } = quietLog();
    const dir = await copyMigrations();
    const name = "29991231000001_retried";
    await addMigration(dir, name, 'CREATE TABLE "retried" ("id" INTEGER);\n');
    await migrate(conn, { log });
    await conn.query(
      "INSERT INTO _prisma_migrations (id, checksum, migration_name, rolled_back_at) VALUES ($1, $2, $3, now())",
      ["00000000-0000-4000-8000-000000000002", sha256("an older attempt"), name],
    );

    expect(await migrate(conn, { dir, log })).toEqual([name]);
  });

  it("warns about a recorded migration missing from disk, and carries on", async () => {
    const { conn } = backend;
    const { log, messages } = quietLog();
    await migrate(conn, { log });
    const dir = await copyMigrations();
    await rm(join(dir, INIT), { recursive: true });
    await addMigration(dir, "29991231000001_next", 'CREATE TABLE "next_table" ("id" INTEGER);\n');

    expect(await migrate(conn, { dir, log })).toEqual(["29991231000001_next"]);
    expect(messages.some((msg) => msg.includes(INIT) && msg.includes("missing"))).toBe(true);
  });

  it.runIf(multiSession)(`applies each migration exactly once when two instances start together${multiSession ? "" : ONE_SESSION}`, async () => {
    const dir = await copyMigrations();
    const slow = "29991231000001_slow";
    // The sleep keeps the first runner inside the lock while the second arrives.
    await addMigration(dir, slow, 'SELECT pg_sleep(0.5);\nCREATE TABLE "slow_marker" ("id" INTEGER);\n');
    const [a, b] = await Promise.all([backend.connect!(), backend.connect!()]);
    try {
      const { log } = quietLog();
      const results = await Promise.all([migrate(a.conn, { dir, log }), migrate(b.conn, { dir, log })]);

      expect(results.map((names) => names.length).sort()).toEqual([0, MIGRATIONS.length + 1]);
      expect(results.flat()).toEqual([...MIGRATIONS, slow]);
      const { rows } = await backend.conn.query<{ migration_name: string; n: number }>(
        "SELECT migration_name, count(*)::int AS n FROM _prisma_migrations GROUP BY migration_name ORDER BY migration_name",
      );
      expect(rows).toEqual([...MIGRATIONS, slow].map((migration_name) => ({ migration_name, n: 1 })));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it.runIf(multiSession)(`waits while the Prisma CLI holds its migration lock${multiSession ? "" : ONE_SESSION}`, async () => {
    const cli = await backend.connect!();
    try {
      await cli.conn.query(`SELECT pg_advisory_lock(${PRISMA_MIGRATE_LOCK_KEY})`);
      let done = false;
      const running = migrate(backend.conn, { log: quietLog().log }).finally(() => {
        done = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(done).toBe(false);

      await cli.conn.query(`SELECT pg_advisory_unlock(${PRISMA_MIGRATE_LOCK_KEY})`);
      expect(await running).toEqual(MIGRATIONS);
    } finally {
      await cli.close();
    }
  });
}

describe("migrate on PGlite", () => {
  defineMigrationTests(async () => {
    const db = new PGlite();
    await db.waitReady;
    return { conn: pgliteConnection(db), close: () => db.close() };
  }, { multiSession: false });
});

describe.runIf(TEST_DATABASE_URL)(`migrate on PostgreSQL${TEST_DATABASE_URL ? "" : " (skipped: needs PostgreSQL, set TEST_DATABASE_URL)"}`, () => {
  defineMigrationTests(async () => {
    const base = new URL(TEST_DATABASE_URL!);
    const name = `gatehouse_mig_${randomBytes(6).toString("hex")}`;
    const scratch = new URL(base);
    scratch.pathname = `/${name}`;

    const admin = new pg.Client({ connectionString: base.href });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);

    const connect = async () => {
      const client = new pg.Client({ connectionString: scratch.href });
      await client.connect();
      return { conn: pgConnection(client), close: () => client.end() };
    };
    const main = await connect();

    return {
      conn: main.conn,
      connect,
      close: async () => {
        await main.close();
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await admin.end();
      },
    };
  }, { multiSession: true });
});
