/**
 * admin.listUsers on a seeded table (20,000 users): the email-prefix search
 * and the pages read indexes, never the whole table, on whichever database
 * the suite runs (EXPLAIN of the very statement the procedure runs).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { listUsersSql, type ListUsersInput } from "../server/admin/user-list.ts";
import type { Database } from "../server/db/database.ts";
import { seedUsers } from "../scripts/lib/seed-users.ts";
import { onPostgres, openTestDatabase, resetDatabase } from "./helpers/database.ts";

let db: Database;

beforeAll(async () => {
  db = await openTestDatabase();
  await resetDatabase(db);
  await seedUsers(db, 20_000);
}, 120_000);

/** The plan of one page's statement, as text. */
async function plan(input: ListUsersInput): Promise<string> {
  const { sql, params } = listUsersSql(input);
  const rows = await db.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, params);
  return rows.map((row) => row["QUERY PLAN"]).join("\n");
}

describe(`admin.listUsers query plans (${onPostgres ? "PostgreSQL" : "PGlite"}, 20,000 users)`, () => {
  it("searches an email prefix, any case, on the lower(email) pattern index, without a table scan", async () => {
    const text = await plan({ query: "SEED123", limit: 50 });
    expect(text).toContain("users_email_prefix_idx");
    expect(text).not.toContain("Seq Scan");
    // ... and finds what the prefix names.
    const { sql, params } = listUsersSql({ query: "SEED123", limit: 50 });
    const rows = await db.query<{ email: string }>(sql, params);
    const emails = rows.map((r) => r.email);
    expect(emails).toHaveLength(51);
    expect(emails.every((email) => email.startsWith("seed123"))).toBe(true);
    // Byte order: "seed12300@" before "seed1230@" ('0' < '@').
    expect(emails.slice(0, 2)).toEqual(["seed12300@example.com", "seed12301@example.com"]);
    expect([...emails].sort()).toEqual(emails);
  });

  it("reads the next page of a search from the same index", async () => {
    const cursor = Buffer.from("e:seed1239@example.com").toString("base64url");
    const text = await plan({ query: "seed12", cursor, limit: 50 });
    expect(text).toContain("users_email_prefix_idx");
    expect(text).not.toContain("Seq Scan");
  });

  it("pages without a query along the primary key, newest first", async () => {
    const [last] = await db.query<{ id: string }>("SELECT id FROM users ORDER BY id DESC OFFSET 5000 LIMIT 1", []);
    const cursor = Buffer.from(`i:${last!.id}`).toString("base64url");
    for (const input of [{ limit: 50 }, { cursor, limit: 50 }]) {
      const text = await plan(input);
      expect(text).toContain("users_pkey");
      expect(text).not.toContain("Seq Scan");
    }
  });
});
