/**
 * The bcrypt cost most stored hashes have, which the dummy verification of
 * unknown emails spends (server/passwords/hasher.ts `verifyDummy`). After
 * BCRYPT_COST changes, stored hashes keep their old cost until their owner
 * logs in again: a dummy at the new cost would make unknown emails answer
 * measurably slower (or faster) than known ones. Counted at start-up and then
 * every few minutes, off the request path.
 */
import type { SqlQuery } from "../db/database.ts";
import type { Logger } from "../log.ts";
import type { PasswordHasher } from "./hasher.ts";

/** How often the count is taken again. */
const PREVAILING_COST_INTERVAL_MS = 10 * 60_000;

/** The cost most `$2?$NN$` hashes in `users` have, or null when there are none. */
export async function prevailingCost(query: SqlQuery): Promise<number | null> {
  // One pass over users' hashes; a cheap aggregate next to a login's bcrypt.
  const rows = await query<{ cost: string }>(
    `SELECT substring("password_hash" from 5 for 2) AS "cost" FROM "users"
      WHERE "password_hash" ~ '^\\$2[abxy]\\$[0-9]{2}\\$'
      GROUP BY 1 ORDER BY count(*) DESC, 1 DESC LIMIT 1`,
    [],
  );
  return rows.length > 0 ? Number(rows[0]!.cost) : null;
}

/** Points the hasher's dummy at the prevailing cost now, then every interval; returns a stop function. */
export async function followPrevailingCost(
  deps: { db: { query: SqlQuery }; passwords: PasswordHasher; log: Logger },
  intervalMs = PREVAILING_COST_INTERVAL_MS,
): Promise<() => void> {
  const refresh = async () => {
    try {
      // No stored hash yet: the configured cost is what the first ones will have.
      deps.passwords.setDummyCost((await prevailingCost(deps.db.query)) ?? deps.passwords.cost);
    } catch (error) {
      deps.log.warn({ err: (error as Error).message }, "could not count stored bcrypt costs; the dummy hash keeps its cost");
    }
  };
  await refresh();
  const timer = setInterval(() => void refresh(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
