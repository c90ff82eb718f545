/**
 * What the raw session lookup (server/sessions/lookup.ts) saves over the plain
 * Prisma path it stands for: both called in this process, one after the other,
 * on the same session of the scratch database, in interleaved rounds.
 */
import { openDatabase } from "../../server/db/database.ts";
import { createLogger } from "../../server/log.ts";
import { fastAgainstPlain } from "./fast-vs-plain.ts";
import { findSessionWithUser, findSessionWithUserViaPrisma, type SessionLookup } from "../../server/sessions/lookup.ts";

/** Microseconds per lookup of each path (medians of the rounds). */
export async function sessionLookupMicros(databaseUrl: string, sessionId: string, rounds = 5, perRound = 2_000): Promise<{ raw: number; prisma: number }> {
  const db = await openDatabase({ databaseUrl, dataDir: ":memory:", log: createLogger({ logLevel: "silent" }), poolSize: 2 });
  const time = async (lookup: SessionLookup): Promise<number> => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) if (!(await lookup(db, sessionId))) throw new Error("bench session not found");
    return Number(process.hrtime.bigint() - started) / perRound / 1000;
  };
  try {
    const { fast, plain } = await fastAgainstPlain(() => time(findSessionWithUser), () => time(findSessionWithUserViaPrisma), rounds);
    return { raw: fast, prisma: plain };
  } finally {
    await db.close();
  }
}
