/**
 * `npm run db:migrate`: applies pending migrations to the configured database
 * (DATABASE_URL, or the embedded one in DATA_DIR) and exits. The server does
 * the same at start-up; this is for deploy pipelines that migrate first.
 */
import { openDatabase } from "../server/db/database.ts";
import { EnvError, loadEnv } from "../server/env.ts";
import { createLogger } from "../server/log.ts";

try {
  const config = loadEnv();
  const log = createLogger(config);
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log, poolSize: 1 });
  await db.close();
  log.info({ database: db.kind }, "database is up to date");
} catch (error) {
  console.error(error instanceof EnvError ? error.message : `Migration failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
