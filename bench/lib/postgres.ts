/** Scratch PostgreSQL databases for one bench run, migrated and dropped afterwards. */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { migrate } from "../../server/db/migrate.ts";
import { pgConnection } from "../../server/db/sql-connection.ts";

/** The same server URL pointing at another database. */
export function databaseUrlFor(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates and migrates `gatehouse_bench_<random>` on the server; `drop()` removes it. */
export async function createScratchDatabase(serverUrl: string): Promise<ScratchDatabase> {
  const name = `gatehouse_bench_${randomBytes(4).toString("hex")}`;
  await admin(serverUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = databaseUrlFor(serverUrl, name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await migrate(pgConnection(client), { log: () => {} });
  } finally {
    await client.end();
  }
  return {
    url,
    drop: () => admin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => {}),
  };
}
