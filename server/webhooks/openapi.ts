/**
 * The webhooks as OpenAPI 3.1 describes calls a server makes (the document's
 * top-level `webhooks`): one POST per event type, its body schema, and the
 * Standard Webhooks headers. `GET /openapi.json` carries them
 * (server/http/openapi.ts), so receivers can generate types from it too.
 */
import { MAX_ATTEMPTS } from "./schedule.ts";
import { WEBHOOK_EVENT_SCHEMAS, WEBHOOK_EVENT_TYPES, type WebhookEventType } from "./payloads.ts";

/** `user.created` → `UserCreatedEvent`: the component name of an event's body. */
function eventComponentName(type: WebhookEventType): string {
  return `${type.replace(/(^|\.)(\w)/g, (_, __, letter: string) => letter.toUpperCase())}Event`;
}

/** The body schemas, for the document's components (zod, converted by the generator). */
export function webhookComponents() {
  return Object.fromEntries(WEBHOOK_EVENT_TYPES.map((type) => [eventComponentName(type), WEBHOOK_EVENT_SCHEMAS[type]]));
}

const HEADERS = [
  ["webhook-id", "The event's id: the same on every attempt and for every endpoint; deduplicate on it"],
  ["webhook-timestamp", "Unix seconds of this attempt; refuse a message more than a few minutes off your clock"],
  ["webhook-signature", "`v1,<base64 HMAC-SHA256 of \"<webhook-id>.<webhook-timestamp>.<body>\">` under the endpoint's secret"],
] as const;

/** The document's `webhooks`: one operation per event type. */
export function webhookOperations() {
  return Object.fromEntries(
    WEBHOOK_EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          summary: WEBHOOK_EVENT_SCHEMAS[type].description,
          description:
            "Signed per Standard Webhooks; verify the raw body with the `standardwebhooks` package and the endpoint's `whsec_` secret " +
            `before parsing it. Any answer but 2xx, or none in time, is retried with backoff (${MAX_ATTEMPTS} attempts over about 30 hours).`,
          tags: ["webhooks"],
          parameters: HEADERS.map(([name, description]) => ({ name, in: "header", required: true, description, schema: { type: "string" } })),
          requestBody: { required: true, content: { "application/json": { schema: { $ref: `#/components/schemas/${eventComponentName(type)}` } } } },
          responses: { "2XX": { description: "Received" } },
        },
      },
    ]),
  );
}
