/**
 * `gatehouse/webhooks`: what a receiver of Gatehouse's webhooks needs. The
 * event types, a zod schema per event body, and `verifyWebhook`, which checks
 * the Standard Webhooks signature with the reference `standardwebhooks`
 * package and only then parses the body:
 *
 *   const event = verifyWebhook(process.env.GATEHOUSE_WEBHOOK_SECRET, rawBody, req.headers);
 *   if (event.type === "session.revoked") forget(event.data.sessionId);
 *
 * Verify the raw bytes as received, before any JSON parsing: a re-serialised
 * body does not match its signature.
 */
import { Webhook } from "standardwebhooks";
import { WebhookEvent } from "../server/webhooks/payloads.ts";

export {
  WEBHOOK_EVENT_DATA,
  WEBHOOK_EVENT_SCHEMAS,
  WEBHOOK_EVENT_TYPES,
  WebhookEvent,
  type WebhookEventType,
} from "../server/webhooks/payloads.ts";
export { WebhookVerificationError } from "standardwebhooks";

/** Request headers as Node (`IncomingHttpHeaders`) or the Fetch API (`Headers`) hands them over. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

function plainHeaders(headers: WebhookHeaders): Record<string, string> {
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  return Object.fromEntries(entries.flatMap(([name, value]) => (value === undefined ? [] : [[name.toLowerCase(), Array.isArray(value) ? value.join(", ") : value]])));
}

/**
 * The event a request carries, once its signature (under the endpoint's
 * `whsec_` secret) and its timestamp (within 5 minutes) check out. Throws
 * `WebhookVerificationError` for a bad signature or timestamp, and a
 * `ZodError` for a signed body that is not a known event.
 */
export function verifyWebhook(secret: string, rawBody: string | Buffer, headers: WebhookHeaders): WebhookEvent {
  return WebhookEvent.parse(new Webhook(secret).verify(rawBody, plainHeaders(headers)));
}
