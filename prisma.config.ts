/**
 * Prisma CLI configuration.
 *
 * Prisma's native schema engine is a binary downloaded on first use, which
 * fails offline and on air-gapped networks. The CLI only checks that the file
 * named by PRISMA_SCHEMA_ENGINE_BINARY exists, so we point it at a stand-in
 * that drives @prisma/schema-engine-wasm (see prisma/engine/). `??=` keeps the
 * real engine for anyone who has set it.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "prisma/config";

if (existsSync(".env")) process.loadEnvFile(".env");
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(new URL("./prisma/engine/schema-engine", import.meta.url));

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: {
    // The CLI needs a URL only for migrate/db commands; the app itself reads
    // DATABASE_URL through server/env.ts and falls back to embedded PGlite.
    url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/gatehouse_dev",
  },
});
