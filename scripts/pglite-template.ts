/**
 * Makes the embedded database's template (server/db/pglite-template.ts): a
 * fresh in-memory PGlite with every migration applied, dumped to
 * node_modules/.cache/gatehouse/. Run by `npm install` (scripts/prepare-start.mjs);
 * does nothing when the template for the current migrations exists.
 */
import { existsSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { migrate } from "../server/db/migrate.ts";
import { templateFile, writeTemplate } from "../server/db/pglite-template.ts";
import { pgliteConnection } from "../server/db/sql-connection.ts";

if (existsSync(templateFile())) process.exit(0);
const started = performance.now();
const pglite = await PGlite.create();
await migrate(pgliteConnection(pglite), { log: () => {} });
const dump = await pglite.dumpDataDir("gzip");
await pglite.close();
const file = writeTemplate(new Uint8Array(await dump.arrayBuffer()));
console.log(`gatehouse: embedded database template ready (${file}, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
