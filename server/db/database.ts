/**
 * The database: Prisma Client over a driver adapter, real PostgreSQL through
 * `@prisma/adapter-pg` when DATABASE_URL is set, embedded PGlite otherwise.
 * Everything above this file sees one `PrismaClient` and never the adapter.
 */
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { Logger } from "../log.ts";
import { PrismaClient } from "../generated/prisma/client.ts";
import { migrate } from "./migrate.ts";
import { pgConnection, pgliteConnection } from "./sql-connection.ts";

export type { PrismaClient };
export type Prisma = PrismaClient;

/** An open database with its lifecycle. */
export interface Database {
  readonly kind: "postgres" | "pglite";
  readonly prisma: PrismaClient;
  /** Whether the database answers a trivial query right now. */
  ping(): Promise<boolean>;
  /** Disconnects Prisma and closes the underlying driver. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres:// URL; unset: embedded PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  /** Directory of the embedded database, or `:memory:`. */
  dataDir: string;
  log: Logger;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** Connection pool size for PostgreSQL. */
  poolSize?: number;
}

/** Opens (and by default migrates) the configured database. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  return options.databaseUrl === undefined ? openPglite(options) : openPostgres(options, options.databaseUrl);
}

async function openPostgres(options: OpenDatabaseOptions, url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, connectionTimeoutMillis: 5_000 });
  // An idle client losing its connection emits 'error' on the pool; unhandled it
  // would crash the process. The next query reconnects.
  pool.on("error", (error) => options.log.warn({ err: error.message }, "postgres connection lost"));
  try {
    if (options.migrate !== false) {
      const client = await pool.connect();
      try {
        await migrate(pgConnection(client), { log: (msg) => options.log.info(msg) });
      } finally {
        client.release();
      }
    }
  } catch (error) {
    await pool.end();
    throw error;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    kind: "postgres",
    prisma,
    ping: () => ping(prisma),
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPglite(options: OpenDatabaseOptions): Promise<Database> {
  let dataDir: string | undefined;
  if (options.dataDir !== ":memory:") {
    dataDir = join(options.dataDir, "pglite");
    mkdirSync(dataDir, { recursive: true });
  }
  const pglite = await PGlite.create(dataDir);
  try {
    if (options.migrate !== false) {
      await migrate(pgliteConnection(pglite), { log: (msg) => options.log.info(msg) });
    }
  } catch (error) {
    await pglite.close();
    throw error;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  return {
    kind: "pglite",
    prisma,
    ping: () => ping(prisma),
    async close() {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}

async function ping(prisma: PrismaClient): Promise<boolean> {
  try {
    await prisma.$queryRaw`SELECT 1`;
    return true;
  } catch {
    return false;
  }
}
