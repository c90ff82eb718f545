/**
 * Prisma CLI configuration.
 *
 * Prisma's native schema engine is a binary downloaded on first use, which
 * fails offline and on air-gapped networks. The CLI only checks that the file
 * named by PRISMA_SCHEMA_ENGINE_BINARY exists, so we point it at a stand-in
 * that drives @prisma/schema-engine-wasm (see prisma/engine/). `??=` keeps the
 * real engine for anyone who has set it.
 *
 * The database is DATABASE_URL's. Without it the app runs on the embedded
 * database, which only its own process can open: run the CLI through
 * `npm run db:prisma -- <command>` (or `npm run db:studio`), which serves it
 * over the wire protocol and sets DATABASE_URL for the CLI
 * (scripts/db-prisma.ts). `prisma generate` needs no database.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "prisma/config";

if (existsSync(".env")) process.loadEnvFile(".env");
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(new URL("./prisma/engine/schema-engine", import.meta.url));

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  ...(process.env.DATABASE_URL ? { datasource: { url: process.env.DATABASE_URL } } : {}),
});
