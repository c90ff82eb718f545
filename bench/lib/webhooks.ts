/**
 * Webhook throughput: `count` events are written straight into the database
 * (one INSERT of `count` users, so the outbox triggers write `count`
 * deliveries in one transaction and NOTIFY on commit), and Gatehouse's worker
 * delivers them to a fast receiver in this process (204 at once); the time
 * runs until every delivery is recorded as succeeded. The baseline, measured
 * in the same run, is this process POSTing as many bodies of the same size to
 * the same receiver with the same concurrency, a fresh connection each as the
 * worker makes them: what the HTTP part alone costs, without outbox, claims,
 * signatures or records.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { openDatabase } from "../../server/db/database.ts";
import { createLogger } from "../../server/log.ts";
import { createSealer } from "../../server/secrets/sealer.ts";
import { createWebhook } from "../../server/webhooks/endpoints.ts";

export interface WebhookThroughput {
  deliveries: number;
  concurrency: number;
  seconds: number;
  deliveriesPerSecond: number;
  baselineSeconds: number;
  baselinePostsPerSecond: number;
}

/** A receiver that answers 204 at once and counts what it got. */
async function fastReceiver(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received: () => received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function post(url: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", agent: false, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on("end", resolve);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Measures `count` deliveries by the Gatehouse instances attached to
 * `databaseUrl` (started by the caller with `concurrency` attempts each, and
 * allowed to post to loopback), after the raw baseline.
 */
export async function measureWebhooks(databaseUrl: string, encryptionKey: Buffer, count: number, concurrency: number): Promise<WebhookThroughput> {
  const receiver = await fastReceiver();
  const sample = JSON.stringify({ type: "user.created", timestamp: new Date().toISOString(), data: { userId: crypto.randomUUID(), email: "wh-bench-000000@example.com" } });
  const db = await openDatabase({ databaseUrl, dataDir: ":memory:", log: createLogger({ logLevel: "silent" }), migrate: false });
  try {
    let next = 0;
    const baselineStarted = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < count) await post(receiver.url, sample);
      }),
    );
    const baselineSeconds = (performance.now() - baselineStarted) / 1000;

    await createWebhook(
      { prisma: db.prisma, sealer: createSealer(encryptionKey), now: () => new Date(), webhookPolicy: { allowPrivate: true } },
      { url: receiver.url, events: ["user.created"] },
      null,
    );
    const started = performance.now();
    await db.query(
      `INSERT INTO "users" ("id", "email", "name", "password_hash", "updated_at")
       SELECT gen_random_uuid(), 'wh-bench-' || i || '@example.com', 'Bench', NULL, now() FROM generate_series(1, $1::int) AS i`,
      [count],
    );
    for (;;) {
      const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "webhook_deliveries" WHERE "status" = 'succeeded'`, []);
      if (row!.n >= count) break;
      if (performance.now() - started > 300_000) throw new Error(`webhooks: ${row!.n} of ${count} delivered after 300 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    if (receiver.received() - count < count) throw new Error(`webhooks: the receiver got ${receiver.received() - count} deliveries, expected ${count}`);
    return { deliveries: count, concurrency, seconds, deliveriesPerSecond: count / seconds, baselineSeconds, baselinePostsPerSecond: count / baselineSeconds };
  } finally {
    await db.query(`DELETE FROM "webhooks"`, []);
    await db.close();
    await receiver.close();
  }
}
