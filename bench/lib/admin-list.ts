/**
 * The bench's `admin.listUsers` figures: a table of 100,000 users seeded in
 * one `INSERT … SELECT generate_series` (scripts/lib/seed-users.ts), an admin
 * to ask, and autocannon on two reads an admin panel makes: an email-prefix
 * search (served by `users_email_prefix_idx`) and a page deep in the
 * newest-first listing (a keyset cursor along the primary key).
 */
import pg from "pg";
import { seedUsers } from "../../scripts/lib/seed-users.ts";
import { load, type LoadOptions, type LoadResult } from "./load.ts";

export const SEEDED_USERS = 100_000;

export interface AdminListFigures {
  seedMs: number;
  search: LoadResult;
  deepPage: LoadResult;
}

/** Seeds the table, makes `email` an admin, and measures both reads against `baseUrl`. */
export async function measureAdminList(
  options: { baseUrl: string; databaseUrl: string; email: string; accessToken: string } & Pick<LoadOptions, "connections" | "duration">,
  warmup: number,
): Promise<AdminListFigures> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 1 });
  let seedMs: number;
  let cursorId: string;
  try {
    const query = async <R>(sql: string, params: unknown[]) => (await pool.query(sql, params)).rows as R[];
    const started = performance.now();
    await seedUsers({ query }, SEEDED_USERS);
    seedMs = performance.now() - started;
    await query("UPDATE users SET roles = ARRAY['admin'] WHERE email = $1", [options.email]);
    [{ id: cursorId }] = (await query<{ id: string }>("SELECT id FROM users ORDER BY id DESC OFFSET 50000 LIMIT 1", [])) as [{ id: string }];
  } finally {
    await pool.end();
  }
  const listUsers = (input: unknown): LoadOptions => ({
    url: `${options.baseUrl}/trpc/admin.listUsers?input=${encodeURIComponent(JSON.stringify({ json: input }))}`,
    headers: { authorization: `Bearer ${options.accessToken}` },
    connections: options.connections,
    duration: options.duration,
  });
  // "seed9" matches 11,111 users; the page is the first 50 in email order, read from the index in order.
  const search = listUsers({ query: "SEED9", limit: 50 });
  const deepPage = listUsers({ cursor: Buffer.from(`i:${cursorId}`).toString("base64url"), limit: 50 });
  await load({ ...search, duration: warmup });
  await load({ ...deepPage, duration: warmup });
  return { seedMs, search: await load(search), deepPage: await load(deepPage) };
}
