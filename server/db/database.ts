/**
 * The database: Prisma Client over a driver adapter, real PostgreSQL through
 * `@prisma/adapter-pg` when DATABASE_URL is set, embedded PGlite otherwise.
 * Everything above this file sees one `PrismaClient` and never the adapter.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { existsSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { makePrivateDir, tightenTree } from "../data-dir.ts";
import type { Logger } from "../log.ts";
import { PrismaClient } from "../generated/prisma/client.ts";
import { listenPostgres } from "./listen.ts";
import { migrate } from "./migrate.ts";
import { readTemplate, unpackTemplate } from "./pglite-template.ts";
import { pgConnection, pgliteConnection } from "./sql-connection.ts";
import { tracedAdapter, tracedQuery, type TraceQuery } from "./traced-queries.ts";

export type { PrismaClient };

/** One parameterised statement run outside Prisma: the rows, with pg's/PGlite's usual types (Date, boolean). */
export type SqlQuery = <R = Record<string, unknown>>(sql: string, params: unknown[]) => Promise<R[]>;

/** An open database with its lifecycle. */
export interface Database {
  readonly kind: "postgres" | "pglite";
  readonly prisma: PrismaClient;
  /**
   * Raw parameterised queries on the same driver Prisma uses (the pg pool, or
   * the one PGlite, whose own lock keeps them out of Prisma's transactions).
   * Only for hot paths where Prisma's per-query cost shows (docs/performance.md).
   */
  readonly query: SqlQuery;
  /** Whether the database answers a trivial query right now. */
  ping(): Promise<boolean>;
  /** LISTEN on a channel: `onPayload` gets each NOTIFY payload (after its transaction commits) until the returned function is called. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** The connection pool right now, for /metrics (PGlite: one session, no pool). */
  poolStats(): PoolStats;
  /** Disconnects Prisma and closes the underlying driver. */
  close(): Promise<void>;
}

/** Connections of the pool: its size limit, those open, those idle, and callers waiting for one. */
export interface PoolStats {
  max: number;
  total: number;
  idle: number;
  waiting: number;
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
  /** Runs each statement inside a trace span (tracing on); unset: untraced. */
  traceQuery?: TraceQuery;
}

/** Opens (and by default migrates) the configured database. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  return options.databaseUrl === undefined ? openPglite(options) : openPostgres(options, options.databaseUrl);
}

/**
 * Raw SQL on the pool as named prepared statements, one name per distinct
 * text: each connection parses and plans a statement once, then only binds
 * and executes it (less work for PostgreSQL, smaller messages on the wire).
 */
function preparedQuery(pool: pg.Pool): SqlQuery {
  const names = new Map<string, string>();
  return async <R,>(text: string, values: unknown[]) => {
    let name = names.get(text);
    if (name === undefined) names.set(text, (name = `gatehouse_${names.size + 1}`));
    return (await pool.query({ name, text, values })).rows as R[];
  };
}

async function openPostgres(options: OpenDatabaseOptions, url: string): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // While the database is unreachable a request waits at most this long for a
    // connection before it is answered DB_UNAVAILABLE (readiness probes included).
    connectionTimeoutMillis: 3_000,
    // Detects peers that vanished without closing the connection.
    keepAlive: true,
  });
  // An idle client losing its connection emits 'error' on the pool; unhandled it
  // would crash the process. The next query reconnects.
  pool.on("error", (error) => options.log.warn({ err: error.message }, "postgres connection lost"));
  const query = preparedQuery(pool);
  const listen: Database["listen"] = (channel, onPayload) => listenPostgres(url, channel, onPayload, options.log);
  const stats = (): PoolStats => ({ max: pool.options.max, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });
  return finishOpening(options, "postgres", new PrismaPg(pool), query, listen, stats, () => pool.end(), async () => {
    const client = await pool.connect();
    try {
      return await migrate(pgConnection(client), { log: (msg) => options.log.info(msg) });
    } finally {
      client.release();
    }
  });
}

/** The embedded database's buffer cache (bench: peak RSS of a first start, docs/performance.md). */
const PGLITE_SHARED_BUFFERS = "16MB";

async function openPglite(options: OpenDatabaseOptions): Promise<Database> {
  // A new database starts from the migrated template when there is one
  // (./pglite-template.ts): a new directory is unpacked from it (atomically)
  // before PGlite opens it, an in-memory database is loaded from it by PGlite.
  let dataDir: string | undefined;
  let template: Blob | undefined;
  if (options.dataDir === ":memory:") {
    template = readTemplate();
  } else {
    dataDir = join(options.dataDir, "pglite");
    if (!existsSync(join(dataDir, "PG_VERSION"))) await unpackTemplate(dataDir);
    makePrivateDir(dataDir);
  }
  // Loaded only here: importing PGlite takes ~40 MB of memory that a
  // PostgreSQL deployment would carry for nothing (docs/performance.md).
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import("@electric-sql/pglite"), import("pglite-prisma-adapter")]);
  const pglite = await PGlite.create(dataDir, {
    // PostgreSQL's 128 MB of shared buffers is sized for a server with many
    // sessions; PGlite is one, and its buffers live in this process's memory.
    startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
    ...(template ? { loadDataDir: template } : {}),
  });
  // PGlite is one session: migrations must finish before Prisma shares it.
  const query: SqlQuery = async <R,>(sql: string, params: unknown[]) => (await pglite.query<R>(sql, params)).rows;
  const listen: Database["listen"] = async (channel, onPayload) => {
    const unlisten = await pglite.listen(channel, onPayload);
    return () => unlisten();
  };
  // One in-process session: always open, never idle in the pool's sense, its waiters queued inside PGlite.
  const stats = (): PoolStats => ({ max: 1, total: 1, idle: 0, waiting: 0 });
  const db = await finishOpening(options, "pglite", new PrismaPGlite(pglite), query, listen, stats, () => pglite.close(), () =>
    migrate(pgliteConnection(pglite), { log: (msg) => options.log.info(msg) }),
  );
  if (dataDir !== undefined) tightenTree(dataDir);
  return db;
}

/** Migrates (unless told not to), then puts Prisma over the driver; closes the driver on failure. */
async function finishOpening(
  options: OpenDatabaseOptions,
  kind: Database["kind"],
  adapter: SqlDriverAdapterFactory,
  query: SqlQuery,
  listen: Database["listen"],
  poolStats: () => PoolStats,
  closeDriver: () => Promise<void>,
  runMigrations: () => Promise<unknown>,
): Promise<Database> {
  try {
    if (options.migrate !== false) await runMigrations();
  } catch (error) {
    await closeDriver();
    throw error;
  }
  const trace = options.traceQuery;
  const prisma = new PrismaClient({ adapter: trace ? tracedAdapter(adapter, trace) : adapter });
  return {
    kind,
    prisma,
    query: trace ? tracedQuery(query, trace) : query,
    listen,
    ping: () => ping(prisma),
    poolStats,
    async close() {
      await prisma.$disconnect();
      await closeDriver();
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
