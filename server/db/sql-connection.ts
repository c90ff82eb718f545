/**
 * One dedicated database connection, as the migration runner needs it.
 *
 * Advisory locks and transactions belong to a session, so the runner must hold
 * a single connection for its whole run; a pool would hand each statement to
 * whichever connection is free. These adapters wrap a checked-out `pg` client
 * or an embedded PGlite database (which is one session by nature).
 */
import type { ClientBase } from "pg";
import type { PGliteInterface } from "@electric-sql/pglite";

/** A single session: parameterised single statements, and multi-statement scripts. */
export interface SqlConnection {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
  /** Runs a script of several statements (no parameters). */
  exec(sql: string): Promise<void>;
}

/** Wraps a connected `pg` client (a `Client`, or one checked out of a `Pool`). */
export function pgConnection(client: ClientBase): SqlConnection {
  return {
    async query<R = Record<string, unknown>>(sql: string, params?: unknown[]) {
      const result = await client.query(sql, params);
      return { rows: result.rows as R[] };
    },
    async exec(sql: string) {
      // Without parameters pg uses the simple query protocol, the only one
      // that accepts several statements in one string.
      await client.query(sql);
    },
  };
}

/** Wraps an embedded PGlite database. */
export function pgliteConnection(db: PGliteInterface): SqlConnection {
  return {
    async query<R = Record<string, unknown>>(sql: string, params?: unknown[]) {
      const result = await db.query<R>(sql, params);
      return { rows: result.rows };
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
}
