/**
 * Scratch databases on a PostgreSQL server, for the test suite, the bench and
 * the load test: create (optionally from a template, or migrated), drop.
 */
import pg from "pg";
import { migrate } from "../../server/db/migrate.ts";
import { pgConnection } from "../../server/db/sql-connection.ts";

/** The same server URL pointing at another database. */
export function databaseUrlFor(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdmin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates a database, optionally as a copy of a template. */
export function createDatabase(serverUrl: string, name: string, template?: string): Promise<void> {
  return withAdmin(serverUrl, async (client) => {
    await client.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ""}`);
  });
}

/** Drops a database, ending any connection still open to it. */
export function dropDatabase(serverUrl: string, name: string): Promise<void> {
  return withAdmin(serverUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}

/** Drops every database whose name starts with the prefix. */
export function dropDatabasesWithPrefix(serverUrl: string, prefix: string): Promise<void> {
  return withAdmin(serverUrl, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
      [prefix],
    );
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  });
}

/** Creates a database and applies every migration to it; returns its URL. */
export async function createMigratedDatabase(serverUrl: string, name: string): Promise<string> {
  await createDatabase(serverUrl, name);
  const url = databaseUrlFor(serverUrl, name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await migrate(pgConnection(client), { log: () => {} });
  } finally {
    await client.end();
  }
  return url;
}
