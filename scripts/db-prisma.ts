/**
 * The Prisma CLI (and Prisma Studio) on the database the server uses:
 *
 *   npm run db:studio                        # Prisma Studio
 *   npm run db:prisma -- migrate status      # any prisma command
 *
 * With DATABASE_URL set, that database. Without it, the embedded one in
 * DATA_DIR: it is opened (created and migrated like the server does), served
 * over PostgreSQL's wire protocol on 127.0.0.1 by @electric-sql/pglite-socket,
 * and the CLI is pointed at it. The embedded database is one process's: stop
 * the server first.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { openDatabase } from "../server/db/database.ts";
import { loadEnvOrExit } from "../server/env.ts";
import { createLogger } from "../server/log.ts";
import { projectPath } from "../server/paths.ts";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function prisma(args: string[], databaseUrl: string): Promise<number> {
  const child = spawn(process.execPath, [projectPath("node_modules", "prisma", "build", "index.js"), ...args], {
    stdio: "inherit",
    env: { ...process.env, DATABASE_URL: databaseUrl },
  });
  return new Promise((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
}

const config = loadEnvOrExit();
const args = process.argv.slice(2);
if (config.databaseUrl !== undefined) process.exit(await prisma(args, config.databaseUrl));
if (config.dataDir === ":memory:") {
  console.error("DATA_DIR=:memory: has no database to open from another process");
  process.exit(1);
}

// Created and migrated exactly as the server would, then served as it is.
const log = createLogger({ ...config, logLevel: "warn" });
await (await openDatabase({ databaseUrl: undefined, dataDir: config.dataDir, log })).close();
const db = await PGlite.create(join(config.dataDir, "pglite"));
const port = await freePort();
// Prisma Studio opens several connections; the socket server queues their statements on the one session.
const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port, maxConnections: 16 });
await server.start();
console.error(`gatehouse: the embedded database in ${config.dataDir} is served on 127.0.0.1:${port} while prisma runs`);
const code = await prisma(args, `postgresql://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable`);
await server.stop();
await db.close();
process.exit(code);
