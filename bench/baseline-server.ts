/**
 * The baseline the bench compares `auth.me` against: a bare `node:http` server
 * doing the same work with nothing in between. It verifies the same access
 * token (jsonwebtoken, a prepared KeyObject, the same pinned options and claim
 * checks), reads the session joined with its user by `sid` through one `pg`
 * pool with the same pool size, checks owner/revoked/expiry, and answers the
 * user as JSON. No framework, no ORM, no logging: the fastest honest version.
 *
 * The query is sent as most handlers send it, unnamed (PostgreSQL parses and
 * plans it every time). With BASELINE_PREPARED=1 it is a named prepared
 * statement, as Gatehouse sends it: the bench reports `auth.me` against both.
 *
 * Without DATABASE_URL it runs on embedded PGlite in memory instead, like
 * Gatehouse without DATABASE_URL: migrated at start, holding one user and
 * session copied from the Gatehouse it is compared with (BASELINE_SEED, JSON
 * `{ userId, sessionId, email, name }`), read with PGlite's `query`.
 *
 * Env: PORT, HOST, DATABASE_URL, JWT_SECRET, ACCESS_TOKEN_TTL_SECONDS, BASELINE_PREPARED, BASELINE_SEED.
 */
import jwt from "jsonwebtoken";
import { createSecretKey } from "node:crypto";
import { createServer } from "node:http";
import pg from "pg";
import { migrate } from "../server/db/migrate.ts";
import { pgliteConnection } from "../server/db/sql-connection.ts";

const key = createSecretKey(Buffer.from(process.env.JWT_SECRET!, "utf8"));
const ttl = Number(process.env.ACCESS_TOKEN_TTL_SECONDS ?? 900);
const PREPARED = process.env.BASELINE_PREPARED === "1";

type Query = (text: string, values: unknown[]) => Promise<Record<string, unknown>[]>;

async function openPostgres(url: string): Promise<{ query: Query; close(): Promise<void> }> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  return {
    query: async (text, values) =>
      (await pool.query(PREPARED ? { name: "session_with_user", text, values } : { text, values })).rows,
    close: () => pool.end(),
  };
}

async function openPglite(): Promise<{ query: Query; close(): Promise<void> }> {
  const { PGlite } = await import("@electric-sql/pglite");
  const db = await PGlite.create();
  await migrate(pgliteConnection(db), { log: () => {} });
  const seed = JSON.parse(process.env.BASELINE_SEED ?? "null") as { userId: string; sessionId: string; email: string; name: string } | null;
  if (seed) {
    await db.query(
      `INSERT INTO users (id, email, password_hash, name, email_verified, created_at, updated_at) VALUES ($1, $2, 'not a hash', $3, false, now(), now())`,
      [seed.userId, seed.email, seed.name],
    );
    await db.query(
      `INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at) VALUES ($1, $2, now(), now(), now() + interval '1 day')`,
      [seed.sessionId, seed.userId],
    );
  }
  return { query: async (text, values) => (await db.query<Record<string, unknown>>(text, values)).rows, close: () => db.close() };
}

const pool = process.env.DATABASE_URL ? await openPostgres(process.env.DATABASE_URL) : await openPglite();

const SQL = `SELECT s.user_id, s.revoked_at, s.expires_at, s.last_used_at,
  u.id, u.email, u.name, u.email_verified, u.created_at
  FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1`;

function send(res: import("node:http").ServerResponse, status: number, body: unknown) {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
  res.end(payload);
}

const server = createServer(async (req, res) => {
  if (req.url === "/readyz") {
    try {
      await pool.query("SELECT 1", []);
      send(res, 200, { status: "ok" });
    } catch {
      send(res, 503, { status: "unavailable" });
    }
    return;
  }
  try {
    const header = req.headers.authorization ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    const now = Math.floor(Date.now() / 1000);
    const claims = jwt.verify(token, key, {
      algorithms: ["HS256"],
      issuer: "gatehouse",
      audience: "gatehouse",
      clockTimestamp: now,
      clockTolerance: 5,
    }) as jwt.JwtPayload;
    if (typeof claims.sub !== "string" || typeof claims.sid !== "string" || claims.exp! - claims.iat! > ttl) {
      return send(res, 401, { error: "TOKEN_INVALID" });
    }
    const [row] = await pool.query(SQL, [claims.sid]);
    if (!row || row.user_id !== claims.sub || row.revoked_at !== null || (row.expires_at as Date) <= new Date()) {
      return send(res, 401, { error: "SESSION_REVOKED" });
    }
    send(res, 200, { id: row.id, email: row.email, name: row.name, emailVerified: row.email_verified, createdAt: row.created_at });
  } catch {
    send(res, 401, { error: "TOKEN_INVALID" });
  }
});

server.listen(Number(process.env.PORT), process.env.HOST ?? "127.0.0.1");
process.on("SIGTERM", () => {
  server.close(() => void pool.close().then(() => process.exit(0)));
  server.closeIdleConnections();
  setInterval(() => server.closeIdleConnections(), 100).unref();
});
