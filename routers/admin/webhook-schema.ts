/** Inputs and outputs of the webhook procedures of `admin` (docs/webhooks.md). */
import * as z from "zod";
import { DELIVERIES_DEFAULT_LIMIT, DELIVERIES_MAX_LIMIT } from "../../server/webhooks/deliveries.ts";
import { WEBHOOK_EVENT_TYPES, WebhookEvent } from "../../server/webhooks/payloads.ts";

const WebhookId = z.uuid("Invalid webhook id");
const DeliveryId = z.uuid("Invalid delivery id");
const EventType = z.enum(WEBHOOK_EVENT_TYPES, { error: `Unknown event; one of ${WEBHOOK_EVENT_TYPES.join(", ")}` });

/**
 * An http(s) URL without credentials: the URL is listed to every admin and
 * written to logs, so a secret has no place in it (the receiver checks the
 * signature instead). Whether its host is allowed is decided by the target
 * check (WEBHOOK_URL_REFUSED), not here.
 */
const TargetUrl = z
  .url({ protocol: /^https?$/, error: "Must be an http:// or https:// URL" })
  .max(2048, "URL must be at most 2048 characters")
  .refine((url) => {
    const parsed = new URL(url);
    return parsed.username === "" && parsed.password === "";
  }, "URL must not contain a user name or password");

export const CreateWebhookInput = z.object({
  url: TargetUrl,
  events: z.array(EventType).min(1, "Name at least one event").max(WEBHOOK_EVENT_TYPES.length * 2, "Too many events"),
});

export const CreateWebhookOutput = z.object({
  id: z.uuid(),
  /** `whsec_…`: shown this once. */
  secret: z.string(),
});

export const WebhookOutput = z.object({
  id: z.uuid(),
  url: z.string(),
  events: z.array(EventType),
  createdAt: z.date(),
  createdBy: z.uuid().nullable(),
});

export const WebhookIdInput = z.object({ webhookId: WebhookId });
export const DeliveryIdInput = z.object({ deliveryId: DeliveryId });

export const DeliveriesInput = z.object({
  webhookId: WebhookId,
  /** The next page: the `id` of the last delivery of the page before. */
  cursor: DeliveryId.optional(),
  limit: z
    .number()
    .int()
    .min(1, "Limit must be at least 1")
    .max(DELIVERIES_MAX_LIMIT, `Limit must be at most ${DELIVERIES_MAX_LIMIT}`)
    .default(DELIVERIES_DEFAULT_LIMIT),
});

const AttemptOutput = z.object({
  startedAt: z.date(),
  durationMs: z.number().int(),
  /** The HTTP status, or null when no answer came. */
  statusCode: z.number().int().nullable(),
  /** Why the attempt failed (`HTTP 500`, `timed out after 10000 ms`, `refused: …`), or null. */
  error: z.string().nullable(),
  /** The first 200 characters of the answer, or null. */
  response: z.string().nullable(),
});

export const DeliveryOutput = z.object({
  id: z.uuid(),
  webhookId: z.uuid(),
  /** The `webhook-id` header: the same on every attempt and every endpoint. */
  eventId: z.uuid(),
  eventType: EventType,
  payload: WebhookEvent,
  status: z.enum(["pending", "delivering", "succeeded", "failed"]),
  /** Attempts since the delivery was created or last redelivered. */
  attemptCount: z.number().int(),
  /** When it is next attempted (pending), or when the current attempt's claim runs out (delivering). */
  nextAttemptAt: z.date(),
  createdAt: z.date(),
  deliveredAt: z.date().nullable(),
  attempts: z.array(AttemptOutput),
});
