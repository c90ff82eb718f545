/**
 * Two instances delivering from one outbox: each attempt is made by exactly
 * one of them. On PostgreSQL the instances have connection pools of their own
 * on one database, so their claims really race; on PGlite (one process's
 * database) they share it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../server/db/database.ts";
import type { Services } from "../server/services.ts";
import { createWebhook } from "../server/webhooks/endpoints.ts";
import { callerFor, newAccount } from "./helpers/caller.ts";
import { onPostgres, openTestDatabase, scratchPostgresUrl, silentLog } from "./helpers/database.ts";
import { testServices } from "./helpers/services.ts";
import { startReceiver, until } from "./helpers/webhook-receiver.ts";

let dbA: Database;
let dbB: Database;
const opened: Services[] = [];

beforeAll(async () => {
  if (onPostgres) {
    const databaseUrl = await scratchPostgresUrl();
    const open = () => openDatabase({ databaseUrl, dataDir: ":memory:", log: silentLog });
    dbA = await open();
    dbB = await open();
  } else {
    dbA = dbB = await openTestDatabase();
  }
});

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  if (onPostgres) await Promise.all([dbA.close(), dbB.close()]);
});

describe(`two instances on one ${onPostgres ? "PostgreSQL database, each with its own pool" : "PGlite database"}`, () => {
  it("make each attempt of each event once: 40 events, a first attempt failing and a second succeeding, 80 requests", async () => {
    const [a, b] = await Promise.all([dbA, dbB].map((db) => testServices(db, { webhookRetryBaseMs: 50, env: { WEBHOOK_POLL_MS: "20" } })));
    opened.push(a!, b!);
    const receiver = await startReceiver();
    const answered = new Map<string, number>();
    receiver.answer = (request) => {
      const id = request.headers["webhook-id"]!;
      answered.set(id, (answered.get(id) ?? 0) + 1);
      return answered.get(id) === 1 ? 500 : 204;
    };
    await createWebhook(a!, { url: receiver.url, events: ["user.created"] }, null);
    await Promise.all([a!.webhooks.start(), b!.webhooks.start()]);
    for (let i = 0; i < 20; i++) {
      await Promise.all([callerFor(a!).auth.register(newAccount()), callerFor(b!).auth.register(newAccount())]);
    }
    const succeeded = () => dbA.prisma.webhookDelivery.count({ where: { status: "succeeded" } });
    await until(async () => (await succeeded()) === 40, 30_000, "40 deliveries succeeded");
    expect(answered.size).toBe(40);
    expect([...answered.values()]).toEqual(Array(40).fill(2));
    expect(receiver.requests).toHaveLength(80);
    expect(await dbA.prisma.webhookAttempt.count()).toBe(80);
    expect(await dbA.prisma.webhookDelivery.findMany({ select: { attemptCount: true } })).toEqual(Array(40).fill({ attemptCount: 2 }));
  });
});
