/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/), made with
 * the reference `standardwebhooks` package so that any receiver's verifier
 * agrees: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
 */
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";

/** Secret bytes: the scheme asks for 24 to 64; 32 matches the HMAC-SHA256 block of security. */
const SECRET_BYTES = 32;

/** A new signing secret, `whsec_<base64>`, shown to the admin once and then kept sealed. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString("base64")}`;
}

/** The seal context of an endpoint's secret: a sealed secret moved to another row does not open. */
export function secretSealContext(webhookId: string): string {
  return `webhook:${webhookId}`;
}

/** The headers of one attempt: the event id (the same on every attempt), the attempt's time, and the signature. */
export function signedHeaders(secret: string, eventId: string, at: Date, body: string): Record<string, string> {
  return {
    "content-type": "application/json",
    "user-agent": "Gatehouse-Webhooks/1",
    "webhook-id": eventId,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(eventId, at, body),
  };
}
