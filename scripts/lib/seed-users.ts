/**
 * Many users at once, for the listing's EXPLAIN test and its bench row: one
 * `INSERT … SELECT generate_series` statement (not one registration each).
 * Emails are `<prefix><n>@example.com`; the password hash is not a hash, so
 * nobody can sign in as them.
 */
import type { SqlQuery } from "../../server/db/database.ts";

export async function seedUsers(db: { query: SqlQuery }, count: number, prefix = "seed"): Promise<void> {
  await db.query(
    `INSERT INTO users (id, email, name, password_hash, created_at, updated_at, roles)
     SELECT gen_random_uuid(), $1 || n || '@example.com', 'Seeded ' || n, '!', now(), now(),
            CASE WHEN n % 1000 = 0 THEN ARRAY['support'] ELSE ARRAY[]::text[] END
     FROM generate_series(1, $2::int) AS n`,
    [prefix, count],
  );
  await db.query("ANALYZE users", []);
}
