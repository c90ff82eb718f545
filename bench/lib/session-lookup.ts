/**
 * What the raw session lookup (server/sessions/lookup.ts) saves over the plain
 * Prisma path it stands for: both called in this process, one after the other,
 * on the same session of the scratch database, in interleaved rounds.
 */
import { openDatabase } from "../../server/db/database.ts";
import { createLogger } from "../../server/log.ts";
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
    await time(findSessionWithUser);
    await time(findSessionWithUserViaPrisma);
    const raw: number[] = [];
    const prisma: number[] = [];
    for (let round = 0; round < rounds; round++) {
      raw.push(await time(findSessionWithUser));
      prisma.push(await time(findSessionWithUserViaPrisma));
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    return { raw: median(raw), prisma: median(prisma) };
  } finally {
    await db.close();
  }
}
