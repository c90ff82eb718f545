/**
 * The database of one test file: a fresh in-memory PGlite by default, or a
 * fresh clone of the migrated template on TEST_DATABASE_URL. Tests start from a
 * known state by truncating every table (`resetDatabase`).
 */
import { randomBytes } from "node:crypto";
import { afterAll, inject } from "vitest";
import { openDatabase, type Database } from "../../server/db/database.ts";
import { createLogger } from "../../server/log.ts";
import { createDatabase, databaseUrlFor, dropDatabase } from "./scratch-postgres.ts";

export const silentLog = createLogger({ logLevel: "silent" });

/** Which database the suite runs on, for test names and skips. */
export const onPostgres = process.env.TEST_DATABASE_URL !== undefined && process.env.TEST_DATABASE_URL !== "";

/** A fresh scratch database on the test server (PostgreSQL runs only); dropped after the file. */
export async function scratchPostgresUrl(): Promise<string> {
  const serverUrl = process.env.TEST_DATABASE_URL!;
  const name = `${inject("runPrefix")}_${randomBytes(4).toString("hex")}`;
  await createDatabase(serverUrl, name, inject("pgTemplate") ?? undefined);
  afterAll(() => dropDatabase(serverUrl, name));
  return databaseUrlFor(serverUrl, name);
}

/** Opens this file's database; it is closed after the file's tests. */
export async function openTestDatabase(): Promise<Database> {
  const databaseUrl = onPostgres ? await scratchPostgresUrl() : undefined;
  const db = await openDatabase({ databaseUrl, dataDir: ":memory:", log: silentLog, poolSize: 20 });
  afterAll(() => db.close());
  return db;
}

/** Empties every application table (the migrations table stays). */
export async function resetDatabase(db: Database): Promise<void> {
  await db.prisma.$executeRawUnsafe(
    'TRUNCATE "auth_events", "one_time_tokens", "refresh_tokens", "sessions", "users", "webhooks", "oauth_flows", "oauth_codes" CASCADE',
  );
}
