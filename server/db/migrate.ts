/**
 * Start-up migration runner: applies pending `prisma/migrations/<name>/migration.sql`
 * folders without Prisma's schema engine, and records them in `_prisma_migrations`
 * exactly as Prisma Migrate does, so `prisma migrate status` and `deploy` agree.
 *
 * Mirrors prisma-engines' schema-engine: `core/src/commands/apply_migrations.rs`
 * (order, failed-migration check), `sql-schema-connector/src/flavour/postgres.rs`
 * (table DDL, lock key), `sql_migration_persistence.rs` (row values) and
 * `schema-connector/src/checksum.rs` (checksum). Two deliberate differences:
 * each migration runs in an explicit transaction with its row, so a failure
 * leaves neither schema changes nor a "failed" row behind (Prisma records one,
 * which blocks every later deploy until someone runs `prisma migrate resolve`);
 * and an edited migration stops start-up, where `deploy` would only ignore it.
 */
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { projectPath } from "../paths.ts";
import type { SqlConnection } from "./sql-connection.ts";

export type { SqlConnection };

/** Options for {@link migrate}. */
export interface MigrateOptions {
  /** Migrations folder; defaults to the repo's `prisma/migrations`. */
  dir?: string | URL;
  /** Receives progress and warnings; defaults to stderr. */
  log?: (msg: string) => void;
}

const DEFAULT_DIR = projectPath("prisma", "migrations");

// Prisma Migrate's own key (flavour/postgres.rs). Sharing it makes the real CLI
// and every Gatehouse instance wait for one another instead of racing.
const PRISMA_MIGRATE_LOCK_KEY = 72707369;

// Verbatim from flavour/postgres.rs `create_migrations_table`, so the table is
// indistinguishable from one the Prisma CLI created.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);
`;

interface LocalMigration {
  name: string;
  script: string;
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/** An applied migration's file no longer matches the checksum recorded when it ran. */
export class MigrationChecksumError extends Error {
  override name = "MigrationChecksumError";
  constructor(readonly migrationNames: readonly string[]) {
    super(
      `Applied migration(s) ${quote(migrationNames)} were modified after they were applied: ` +
        "migration.sql no longer matches the checksum recorded in _prisma_migrations. " +
        "Restore the original file(s) and put the change in a new migration.",
    );
  }
}

/** `_prisma_migrations` holds a migration that started but neither finished nor was rolled back. */
export class FailedMigrationError extends Error {
  override name = "FailedMigrationError";
  constructor(readonly migrationNames: readonly string[]) {
    super(
      `Migration(s) ${quote(migrationNames)} are recorded as failed in _prisma_migrations; ` +
        "no further migrations will be applied. Check the database, then run " +
        "`prisma migrate resolve --rolled-back <name>` (after undoing partial changes) " +
        "or `prisma migrate resolve --applied <name>`.",
    );
  }
}

/** A migration's SQL failed; its transaction was rolled back and nothing was recorded. */
export class MigrationApplyError extends Error {
  override name = "MigrationApplyError";
  constructor(
    readonly migrationName: string,
    cause: unknown,
    script: string,
  ) {
    super(`Migration \`${migrationName}\` failed and was rolled back: ${describeDbError(cause, script)}`, { cause });
  }
}

/**
 * Applies every pending migration in folder order, under Prisma's advisory lock,
 * and returns the names applied (empty when the database is up to date).
 * `conn` must be one dedicated session: the lock is held by the session.
 */
export async function migrate(conn: SqlConnection, options: MigrateOptions = {}): Promise<string[]> {
  const dir = options.dir ?? DEFAULT_DIR;
  const dirPath = typeof dir === "string" ? dir : fileURLToPath(dir);
  const log = options.log ?? ((msg: string) => console.warn(msg));

  const local = await readMigrations(dirPath);
  await conn.query(`SELECT pg_advisory_lock(${PRISMA_MIGRATE_LOCK_KEY})`);
  try {
    return await migrateLocked(conn, local, dirPath, log);
  } finally {
    // A failed unlock means a broken session, whose end releases the lock anyway;
    // it must not hide the error that is already on its way out.
    await conn.query(`SELECT pg_advisory_unlock(${PRISMA_MIGRATE_LOCK_KEY})`).catch((error: unknown) => {
      log(`Could not release the migration lock: ${String(error)}`);
    });
  }
}

async function migrateLocked(
  conn: SqlConnection,
  local: LocalMigration[],
  dirPath: string,
  log: (msg: string) => void,
): Promise<string[]> {
  const { rows: [found] } = await conn.query<{ exists: boolean }>(
    "SELECT to_regclass('_prisma_migrations') IS NOT NULL AS exists",
  );
  if (!found?.exists) await conn.exec(CREATE_MIGRATIONS_TABLE);

  const { rows } = await conn.query<MigrationRow>(
    "SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at",
  );
  // Rolled-back rows are history only; Prisma ignores them when deciding what to apply.
  const live = rows.filter((row) => row.rolled_back_at === null);

  const failed = live.filter((row) => row.finished_at === null).map((row) => row.migration_name);
  if (failed.length > 0) throw new FailedMigrationError(failed);

  const byName = new Map(local.map((m) => [m.name, m]));
  const edited: string[] = [];
  for (const row of live) {
    const file = byName.get(row.migration_name);
    if (file === undefined) {
      log(
        `Migration \`${row.migration_name}\` is recorded in _prisma_migrations but missing from ${dirPath}; ` +
          "continuing (prisma migrate status will report it).",
      );
    } else if (!matchesChecksum(file.script, row.checksum)) {
      edited.push(row.migration_name);
    }
  }
  if (edited.length > 0) throw new MigrationChecksumError(edited);

  const appliedNames = new Set(live.map((row) => row.migration_name));
  const pending = local.filter((m) => !appliedNames.has(m.name));
  for (const migration of pending) {
    log(`Applying migration \`${migration.name}\``);
    await applyMigration(conn, migration);
  }
  return pending.map((m) => m.name);
}

/**
 * Runs one script and records it in the same transaction. The row carries what
 * Prisma's success path leaves (sql_migration_persistence.rs): a v4 uuid, the
 * checksum, started/finished times, logs NULL, applied_steps_count 1 (a raw SQL
 * migration is one step). A script with its own COMMIT would end our
 * transaction early; Prisma-generated PostgreSQL migrations never contain one.
 */
async function applyMigration(conn: SqlConnection, migration: LocalMigration): Promise<void> {
  await conn.exec("BEGIN");
  try {
    await conn.exec(migration.script);
    // now() is the transaction's start, i.e. when this migration started.
    await conn.query(
      `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
       VALUES ($1, $2, clock_timestamp(), $3, NULL, NULL, now(), 1)`,
      [randomUUID(), checksum(migration.script), migration.name],
    );
    await conn.exec("COMMIT");
  } catch (error) {
    await conn.exec("ROLLBACK").catch(() => undefined);
    throw new MigrationApplyError(migration.name, error, migration.script);
  }
}

/**
 * Lists migration folders in lexical order, as the Prisma CLI does (every
 * sub-folder is a migration; a missing migration.sql is an error there too).
 */
async function readMigrations(dirPath: string): Promise<LocalMigration[]> {
  const entries = await readdir(dirPath, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const file = join(dirPath, name, "migration.sql");
      try {
        // Read as UTF-8 text like the CLI does, so checksums hash the same bytes.
        return { name, script: await readFile(file, "utf8") };
      } catch (error) {
        throw new Error(`Migration \`${name}\` has no readable migration.sql (${file})`, { cause: error });
      }
    }),
  );
}

/** Prisma's checksum: lowercase hex SHA-256 of the script exactly as read. */
function checksum(script: string): string {
  return createHash("sha256").update(script, "utf8").digest("hex");
}

/**
 * Prisma accepts the script as is, or with CRLF turned to LF or LF to CRLF,
 * because git may rewrite line endings on checkout (checksum.rs).
 */
function matchesChecksum(script: string, recorded: string): boolean {
  const variants = [script, script.replaceAll("\r\n", "\n"), script.replaceAll("\n", "\r\n")];
  return variants.some((variant) => checksum(variant) === recorded);
}

/** The database's message, SQLSTATE and line within the script, when the driver gives them. */
function describeDbError(error: unknown, script: string): string {
  if (!(error instanceof Error)) return String(error);
  const { code, position } = error as Error & { code?: unknown; position?: unknown };
  const details: string[] = [];
  if (typeof code === "string") details.push(`SQLSTATE ${code}`);
  const offset = Number(position);
  if (Number.isInteger(offset) && offset > 0) {
    details.push(`line ${script.slice(0, offset - 1).split("\n").length}`);
  }
  return details.length > 0 ? `${error.message} (${details.join(", ")})` : error.message;
}

function quote(names: readonly string[]): string {
  return names.map((name) => `\`${name}\``).join(", ");
}
