/**
 * A webhook receiver: it checks each request's Standard Webhooks signature
 * with `gatehouse/webhooks` (the reference `standardwebhooks` package
 * underneath), handles each event once, and answers 204. Anything else
 * Gatehouse sees as a failure and retries with backoff.
 *
 *   npx tsx examples/webhook-receiver.ts   # GATEHOUSE_WEBHOOK_SECRET=whsec_… (from admin.createWebhook)
 *   # then, as an admin: admin.createWebhook { url: "http://127.0.0.1:4001/webhooks", events: ["user.created"] }
 *
 * Delivery is at least once: the same event can come twice (a lost answer,
 * a redelivery), always with the same `webhook-id`, so it is handled once.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyWebhook, WebhookVerificationError, type WebhookEvent } from "gatehouse/webhooks";

const secret = process.env.GATEHOUSE_WEBHOOK_SECRET;
if (!secret) throw new Error("set GATEHOUSE_WEBHOOK_SECRET to the secret admin.createWebhook answered");
const MAX_BODY_BYTES = 64 * 1024;
/** Event ids already handled (a real receiver keeps these in its database, for longer than the retry window). */
const handled = new Set<string>();

function rawBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return reject(new Error("body too large"));
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function handle(event: WebhookEvent): void {
  switch (event.type) {
    case "user.created":
      console.log(`user.created: ${event.data.email} (${event.data.userId})`);
      break;
    case "session.revoked":
      console.log(`session.revoked: ${event.data.sessionId} of ${event.data.userId}`);
      break;
    default:
      console.log(`${event.type}: ${event.data.userId}`);
  }
}

const server = createServer(async (req, res) => {
  if (req.method !== "POST" || req.url !== "/webhooks") return res.writeHead(404).end();
  try {
    const event = verifyWebhook(secret, await rawBody(req), req.headers);
    const id = String(req.headers["webhook-id"]);
    if (!handled.has(id)) {
      handled.add(id);
      handle(event);
    }
    res.writeHead(204).end();
  } catch (error) {
    console.log(`refused: ${error instanceof WebhookVerificationError ? error.message : "not a Gatehouse event"}`);
    res.writeHead(400).end();
  }
});

server.listen(Number(process.env.WEBHOOK_RECEIVER_PORT ?? 4001), "127.0.0.1", () => {
  console.log(`webhook receiver on http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`);
});
