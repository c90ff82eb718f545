/** Scratch PostgreSQL databases for one bench run, migrated and dropped afterwards. */
import { randomBytes } from "node:crypto";
import { createMigratedDatabase, dropDatabase } from "../../tests/helpers/scratch-postgres.ts";

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates and migrates `gatehouse_bench_<random>` on the server; `drop()` removes it. */
export async function createScratchDatabase(serverUrl: string): Promise<ScratchDatabase> {
  const name = `gatehouse_bench_${randomBytes(4).toString("hex")}`;
  const url = await createMigratedDatabase(serverUrl, name);
  return { url, drop: () => dropDatabase(serverUrl, name) };
}
