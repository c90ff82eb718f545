/**
 * `admin.listUsers`: users a page at a time, with a case-insensitive email
 * prefix search, a role and a status filter.
 *
 * Pages are keyset pages (the cursor is the last row's sort key, not an
 * offset): a user created or deleted while an admin pages never shifts the
 * rest, so no row is shown twice or skipped.
 * - Without a query, newest first by id (UUIDv7, time-ordered; the primary key).
 * - With a query, by email, on the expression index `users_email_prefix_idx`
 *   (`lower(email) text_pattern_ops`, migration 20261130170000_admin). The
 *   prefix is a byte range `[prefix, prefix with its last character + 1)`
 *   under the pattern operators (`~>=~`, `~<~`), which that index answers
 *   whatever the database's collation and also in a generic (prepared) plan,
 *   where `LIKE $1` could not use it. Emails are ASCII (the input schema
 *   refuses anything else), so byte order is character order.
 * tests/admin-list.test.ts checks with EXPLAIN that a search does not scan the table.
 */
import type { SqlQuery } from "../db/database.ts";
import { appError } from "../errors.ts";
import { ADMIN_USER_COLUMNS, adminUserOfRow, type AdminUser, type AdminUserRow } from "./admin-user.ts";

export interface ListUsersInput {
  /** Email prefix, any case (printable ASCII). */
  query?: string;
  role?: string;
  status?: "active" | "disabled";
  cursor?: string;
  limit: number;
}

export interface UserPage {
  items: AdminUser[];
  nextCursor: string | null;
}

type Sort = "id" | "email";

/** The cursor after a row: its sort key, tagged with the order it belongs to. */
function cursorOf(sort: Sort, user: AdminUser): string {
  return Buffer.from(`${sort === "id" ? "i" : "e"}:${sort === "id" ? user.id : user.email}`, "utf8").toString("base64url");
}

/** The sort key a cursor carries; VALIDATION_FAILED for a cursor of another order or not ours. */
function keyOf(sort: Sort, cursor: string): string {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const tag = sort === "id" ? "i:" : "e:";
  if (!text.startsWith(tag) || text.length > 300) {
    throw appError("VALIDATION_FAILED", { message: "Invalid input: cursor: not a cursor of this listing" });
  }
  return text.slice(tag.length);
}

/** The first string after every string that starts with `prefix` (byte order): its last character plus one. */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** The statement and parameters of one page; exported for the EXPLAIN test and the bench. */
export function listUsersSql(input: ListUsersInput): { sql: string; params: unknown[]; sort: Sort } {
  const params: unknown[] = [];
  const where: string[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const query = input.query?.toLowerCase() ?? "";
  const sort: Sort = query === "" ? "id" : "email";
  if (query !== "") {
    where.push(`lower(email) ~>=~ ${param(query)}`, `lower(email) ~<~ ${param(prefixEnd(query))}`);
  }
  if (input.role !== undefined) where.push(`roles @> ARRAY[${param(input.role)}]::text[]`);
  if (input.status === "active") where.push("disabled_at IS NULL");
  if (input.status === "disabled") where.push("disabled_at IS NOT NULL");
  if (input.cursor !== undefined) {
    const key = keyOf(sort, input.cursor);
    where.push(sort === "id" ? `id < ${param(key)}::uuid` : `lower(email) ~>~ ${param(key)}`);
  }
  const order = sort === "id" ? "id DESC" : "lower(email) USING ~<~";
  const sql = `SELECT ${ADMIN_USER_COLUMNS} FROM users${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY ${order} LIMIT ${param(input.limit + 1)}`;
  return { sql, params, sort };
}

/** One page of users and the cursor of the next (null on the last page). */
export async function listUsers(deps: { db: { query: SqlQuery } }, input: ListUsersInput): Promise<UserPage> {
  const { sql, params, sort } = listUsersSql(input);
  const rows = await deps.db.query<AdminUserRow>(sql, params);
  const items = rows.slice(0, input.limit).map(adminUserOfRow);
  return { items, nextCursor: rows.length > input.limit ? cursorOf(sort, items.at(-1)!) : null };
}
