/**
 * Webhooks across a crash: the built server (as `npm start` runs it) is
 * killed with SIGKILL while a receiver holds its attempts open, and started
 * again on the same database. Every event still arrives, signed. Runs on
 * PGlite (a data directory on disk) and, with TEST_DATABASE_URL, on
 * PostgreSQL.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../server/db/database.ts";
import { createSealer } from "../server/secrets/sealer.ts";
import { createWebhook } from "../server/webhooks/endpoints.ts";
import { WebhookEvent } from "../server/webhooks/payloads.ts";
import { spawnServer, type SpawnedServer } from "./helpers/production-server.ts";
import { newAccount } from "./helpers/caller.ts";
import { onPostgres, scratchPostgresUrl, silentLog } from "./helpers/database.ts";
import { dataOf, mutate } from "./helpers/http.ts";
import { TEST_SECRET } from "./helpers/services.ts";
import { startReceiver, until } from "./helpers/webhook-receiver.ts";

const ENCRYPTION_KEY = Buffer.alloc(32, 7);
const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-webhooks-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe(`a server killed mid-delivery (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("delivers every event after SIGKILL and a restart: nothing is lost", { timeout: 90_000 }, async () => {
    const databaseUrl = onPostgres ? await scratchPostgresUrl() : undefined;
    const env = {
      NODE_ENV: "test",
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      DATA_DIR: dataDir,
      JWT_SECRET: TEST_SECRET,
      ENCRYPTION_KEY: ENCRYPTION_KEY.toString("base64"),
      BCRYPT_COST: "4",
      AUTH_RATE_LIMIT_PER_MINUTE: "100000",
      // A claim lasts 2 × 2 s + 5 s; two attempts at once, so some events wait unclaimed in the outbox.
      WEBHOOK_TIMEOUT_MS: "2000",
      WEBHOOK_POLL_MS: "100",
      WEBHOOK_CONCURRENCY: "2",
    };
    // The endpoint is made on the database before the server opens it (PGlite is one process's at a time).
    const receiver = await startReceiver();
    const db = await openDatabase({ databaseUrl, dataDir, log: silentLog });
    const sealer = createSealer(ENCRYPTION_KEY);
    const { secret } = await createWebhook(
      { prisma: db.prisma, sealer, now: () => new Date(), webhookPolicy: { allowPrivate: true } },
      { url: receiver.url, events: ["user.created"] },
      null,
    );
    await db.close();

    // Every attempt hangs until the server is gone.
    receiver.answer = () => "hang";
    let server: SpawnedServer = await spawnServer(env);
    const users: string[] = [];
    for (let i = 0; i < 6; i++) users.push(dataOf(await mutate(server.url, "auth.register", newAccount())).user.id);
    await until(() => receiver.requests.length >= 2, 10_000, "two attempts in flight");
    server.proc.kill("SIGKILL");
    expect(await server.exited).toBe(null);
    const held = new Set(receiver.requests.map((r) => r.headers["webhook-id"]));
    const heldCount = receiver.requests.length;

    receiver.answer = () => 204;
    server = await spawnServer(env);
    try {
      // Nothing was answered before the kill: all six events, the ones held open included, come from the new process.
      const afterRestart = () => receiver.requests.slice(heldCount);
      await until(() => new Set(afterRestart().map((r) => r.headers["webhook-id"])).size === 6, 30_000, "all six events after the restart");
      const verifier = new Webhook(secret);
      const received = afterRestart().map((r) => WebhookEvent.parse(verifier.verify(r.body, r.headers)));
      expect(new Set(received.map((event) => event.data.userId))).toEqual(new Set(users));
      for (const id of held) expect(afterRestart().map((r) => r.headers["webhook-id"])).toContain(id);
    } finally {
      server.proc.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    }
  });
});
