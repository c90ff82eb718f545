// PostgreSQL plumbing for the schema-engine stand-in (see README.md here):
// connection strings, Prisma-style error codes, and a driver adapter factory
// for @prisma/schema-engine-wasm that owns its shadow databases.
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";

// @prisma/driver-adapter-utils is a dependency of @prisma/adapter-pg: load the
// copy that adapter uses, so errors and bindings match.
const requireFromAdapter = createRequire(createRequire(import.meta.url).resolve("@prisma/adapter-pg"));
const { bindMigrationAwareSqlAdapterFactory, DriverAdapterError } = await import(
  requireFromAdapter.resolve("@prisma/driver-adapter-utils")
);
export { bindMigrationAwareSqlAdapterFactory };

/** Query parameters that Prisma understands but node-postgres does not. */
const PRISMA_ONLY_PARAMS = [
  "schema",
  "connection_limit",
  "pool_timeout",
  "socket_timeout",
  "pgbouncer",
  "statement_cache_size",
  "max_connection_lifetime",
  "max_idle_connection_lifetime",
];

/**
 * Splits a Prisma PostgreSQL URL into what node-postgres needs.
 * @param {string} url
 */
export function parsePgUrl(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError("P1013", "The provided database string is invalid. The URL could not be parsed.");
  }
  if (parsed.protocol !== "postgresql:" && parsed.protocol !== "postgres:") {
    throw new UserError(
      "P1013",
      `The provided database string is invalid. The stand-in schema engine in prisma/engine/ only supports postgresql:// URLs, got \`${parsed.protocol}\`.`,
    );
  }
  const schema = parsed.searchParams.get("schema") || undefined;
  for (const key of PRISMA_ONLY_PARAMS) parsed.searchParams.delete(key);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || parsed.searchParams.get("dbname") || "postgres";
  return {
    schema,
    database,
    host: parsed.hostname || parsed.searchParams.get("host") || "localhost",
    port: parsed.port || "5432",
    user: decodeURIComponent(parsed.username) || process.env.PGUSER || "postgres",
    /** node-postgres connection string for another database on the same server. */
    connectionStringFor(db) {
      const u = new URL(parsed.href);
      u.pathname = `/${encodeURIComponent(db)}`;
      return u.href;
    },
    connectionString: parsed.href,
  };
}

/** A failure the Prisma CLI shows with its P-code. */
export class UserError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/**
 * Turns a node-postgres or driver-adapter error into a UserError when it is one
 * of the connection failures the native engine reports with a P1xxx code.
 */
export function toUserError(err, info) {
  if (err instanceof UserError) return err;
  const e = err?.cause && typeof err.cause === "object" && "originalCode" in err.cause ? err.cause : err;
  const code = e?.originalCode ?? e?.code;
  const at = `${info.host}:${info.port}`;
  switch (code) {
    case "3D000":
      return new UserError("P1003", `Database \`${info.database}\` does not exist on the database server at \`${at}\`.`);
    case "28P01":
    case "28000":
      return new UserError(
        "P1000",
        `Authentication failed against database server at \`${info.host}\`, the provided database credentials for \`${info.user}\` are not valid.\n\nPlease make sure to provide valid database credentials for the database server at \`${info.host}\`.`,
      );
    case "42P04":
      return new UserError("P1009", `Database \`${info.database}\` already exists on the database server at \`${at}\``);
    case "42501":
      return new UserError("P1010", `User \`${info.user}\` was denied access on the database \`${info.database}\``);
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EHOSTUNREACH":
    case "ECONNRESET":
    case "ETIMEDOUT":
    case "EAI_AGAIN":
      return new UserError(
        "P1001",
        `Can't reach database server at \`${at}\`\n\nPlease make sure your database server is running at \`${at}\`.`,
      );
    default:
      break;
  }
  switch (e?.kind) {
    case "DatabaseDoesNotExist":
      return new UserError("P1003", `Database \`${info.database}\` does not exist on the database server at \`${at}\`.`);
    case "DatabaseNotReachable":
      return new UserError(
        "P1001",
        `Can't reach database server at \`${at}\`\n\nPlease make sure your database server is running at \`${at}\`.`,
      );
    case "AuthenticationFailed":
      return toUserError({ code: "28P01" }, info);
    case "DatabaseAccessDenied":
      return toUserError({ code: "42501" }, info);
    default:
      return null;
  }
}

/** Runs `fn` with a client connected to `connectionString`, always closing it. */
export async function withClient(connectionString, fn) {
  const client = new pg.Client({ connectionString });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

const quoteIdent = (name) => `"${String(name).replace(/"/g, '""')}"`;

/**
 * Runs `fn` on a client connected to some database of the server other than
 * `info.database` would need to be (CREATE/DROP DATABASE): the target itself
 * when allowed, else `postgres`, else `template1`.
 */
async function withAdminClient(info, fn, { preferTarget = true } = {}) {
  const candidates = [...(preferTarget ? [info.database] : []), "postgres", "template1"];
  let lastError;
  for (const db of [...new Set(candidates)]) {
    try {
      return await withClient(info.connectionStringFor(db), fn);
    } catch (err) {
      // Only try the next database when this one is missing or forbidden.
      if (err?.code !== "3D000" && err?.code !== "42501" && err?.code !== "28000") throw err;
      lastError = err;
    }
  }
  throw lastError;
}

export async function canConnect(info) {
  await withClient(info.connectionString, (c) => c.query("SELECT 1"));
}

export async function createDatabase(info) {
  await withAdminClient(info, (c) => c.query(`CREATE DATABASE ${quoteIdent(info.database)}`), { preferTarget: false });
}

export async function dropDatabase(info) {
  await withAdminClient(info, (c) => dropDb(c, info.database), { preferTarget: false });
}

async function dropDb(client, name) {
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } catch (err) {
    if (err?.code !== "42601") throw err; // WITH (FORCE) needs PostgreSQL 13+
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
  }
}

let patched = false;
/**
 * Two fixes to @prisma/adapter-pg for schema-engine use, applied once to the
 * prototype shared by its adapters and transactions:
 * - columns of PostgreSQL's internal `"char"` type (OID 18, e.g. pg_class.relkind
 *   in introspection queries) are reported as text; the adapter rejects them as
 *   UnsupportedNativeDataType otherwise. node-postgres has no parser for OID 18,
 *   so the values are already strings.
 * - `executeScript` sends the whole script as one simple-protocol query, like the
 *   native engine, instead of splitting it on every `;` (which breaks on `;`
 *   inside string literals, comments or function bodies).
 */
function patchAdapterPrototype(adapter) {
  if (patched) return;
  patched = true;
  const queryable = Object.getPrototypeOf(Object.getPrototypeOf(adapter));
  const performIO = queryable.performIO;
  if (typeof performIO !== "function") throw new Error("@prisma/adapter-pg changed: no performIO to patch");
  queryable.performIO = async function (query) {
    const result = await performIO.call(this, query);
    for (const field of result?.fields ?? []) {
      if (field.dataTypeID === 18) field.dataTypeID = 25;
    }
    return result;
  };
  const adapterProto = Object.getPrototypeOf(adapter);
  adapterProto.executeScript = async function (script) {
    try {
      await this.client.query(script);
    } catch (error) {
      this.onError(error);
    }
  };
}

/**
 * A PrismaPg factory whose shadow databases are `prisma_shadow_<random>` on the
 * same server, dropped when the engine disposes them or, failing that, by
 * `dropLeftoverShadowDatabases()` when the process ends.
 */
export class ShimPgFactory extends PrismaPg {
  /** @param {ReturnType<typeof parsePgUrl>} info @param {(msg: string) => void} log */
  constructor(info, log) {
    const options = info.schema ? { schema: info.schema } : undefined;
    super(poolConfig(info, info.connectionString), options);
    this.info = info;
    this.log = log;
    /** @type {Set<string>} */
    this.shadowDatabases = new Set();
  }

  async connect() {
    const adapter = await super.connect();
    patchAdapterPrototype(adapter);
    return adapter;
  }

  async connectToShadowDb() {
    const name = `prisma_shadow_${randomBytes(8).toString("hex")}`;
    try {
      await withAdminClient(this.info, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
    } catch (err) {
      // Reported through the engine as a database error, with the reason.
      throw new DriverAdapterError({
        kind: "postgres",
        code: err?.code ?? "N/A",
        severity: err?.severity ?? "ERROR",
        message: `Could not create the temporary shadow database ${name} on ${this.info.host}:${this.info.port} (needed by migrate dev/diff): ${err?.message ?? err}`,
        detail: err?.detail,
        column: err?.column,
        hint: err?.hint ?? "The database user needs the CREATEDB privilege.",
      });
    }
    this.shadowDatabases.add(name);
    this.log(`created shadow database ${name}`);
    const shadowFactory = new PrismaPg(poolConfig(this.info, this.info.connectionStringFor(name)), this.options);
    const adapter = await shadowFactory.connect();
    patchAdapterPrototype(adapter);
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      try {
        await dispose();
      } finally {
        await this.dropShadowDatabase(name);
      }
    };
    return adapter;
  }

  async dropShadowDatabase(name) {
    if (!this.shadowDatabases.has(name)) return;
    await withAdminClient(this.info, (c) => dropDb(c, name));
    this.shadowDatabases.delete(name);
    this.log(`dropped shadow database ${name}`);
  }

  async dropLeftoverShadowDatabases() {
    for (const name of [...this.shadowDatabases]) {
      await this.dropShadowDatabase(name).catch((err) => this.log(`could not drop shadow database ${name}: ${err.message}`));
    }
  }
}

function poolConfig(info, connectionString) {
  const config = { connectionString, max: 4 };
  // Unqualified names in migration scripts must land in the URL's `schema`.
  if (info.schema) config.options = `-c search_path=${quoteIdent(info.schema)}`;
  return config;
}
