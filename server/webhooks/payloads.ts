/**
 * What a webhook receiver is sent: the event types and, for each, the zod
 * schema of its body. Bodies follow the Standard Webhooks payload shape
 * `{ type, timestamp, data }` (https://www.standardwebhooks.com/). The
 * database triggers of migration 20261130173000_webhooks build them; these
 * schemas are their contract, exported to receivers as `gatehouse/webhooks`
 * and published in `/openapi.json` under `webhooks`. Only zod is imported
 * here, so a receiver pulls in nothing of the server.
 */
import * as z from "zod";

export const WEBHOOK_EVENT_TYPES = [
  "user.created",
  "user.deleted",
  "user.disabled",
  "session.created",
  "session.revoked",
  "password.changed",
  "email.verified",
  "mfa.enabled",
  "mfa.disabled",
  "identity.linked",
  "identity.unlinked",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const userId = z.uuid().meta({ description: "The account's id" });
const sessionId = z.uuid().meta({ description: "The session's id (the `sid` claim of its access tokens)" });
const email = z.string().meta({ description: "The account's email address" });

/** The `data` of each event type. */
export const WEBHOOK_EVENT_DATA = {
  "user.created": z.object({ userId, email }),
  "user.deleted": z.object({ userId }),
  "user.disabled": z.object({ userId }),
  "session.created": z.object({ userId, sessionId }),
  "session.revoked": z.object({ userId, sessionId }),
  "password.changed": z.object({ userId }),
  "email.verified": z.object({ userId, email }),
  "mfa.enabled": z.object({ userId }),
  "mfa.disabled": z.object({ userId }),
  "identity.linked": z.object({ userId }),
  "identity.unlinked": z.object({ userId }),
} as const satisfies Record<WebhookEventType, z.ZodType>;

const DESCRIPTIONS: Record<WebhookEventType, string> = {
  "user.created": "An account was created",
  "user.deleted": "An account was deleted (its sessions went with it)",
  "user.disabled": "An account was disabled by an admin (its sessions are revoked, each reported too)",
  "session.created": "A session was opened: a sign-in, a registration or a password change",
  "session.revoked": "A session was revoked: logout, logout everywhere, a password change or reset, a refresh token replay, an admin",
  "password.changed": "The password was changed or reset",
  "email.verified": "The email address was verified",
  "mfa.enabled": "Two-factor authentication was turned on",
  "mfa.disabled": "Two-factor authentication was turned off",
  "identity.linked": "A sign-in provider identity (OAuth / OpenID Connect) was linked to the account",
  "identity.unlinked": "A sign-in provider identity was unlinked from the account",
};

function eventSchema<T extends WebhookEventType>(type: T) {
  return z
    .object({
      type: z.literal(type),
      timestamp: z.iso.datetime().meta({ description: "When it happened (ISO 8601, UTC)" }),
      data: WEBHOOK_EVENT_DATA[type],
    })
    .meta({ description: DESCRIPTIONS[type] });
}

/** Each event type's whole body. */
export const WEBHOOK_EVENT_SCHEMAS = {
  "user.created": eventSchema("user.created"),
  "user.deleted": eventSchema("user.deleted"),
  "user.disabled": eventSchema("user.disabled"),
  "session.created": eventSchema("session.created"),
  "session.revoked": eventSchema("session.revoked"),
  "password.changed": eventSchema("password.changed"),
  "email.verified": eventSchema("email.verified"),
  "mfa.enabled": eventSchema("mfa.enabled"),
  "mfa.disabled": eventSchema("mfa.disabled"),
  "identity.linked": eventSchema("identity.linked"),
  "identity.unlinked": eventSchema("identity.unlinked"),
} as const satisfies Record<WebhookEventType, z.ZodType>;

/** Any webhook body, discriminated by `type`: `WebhookEvent.parse(JSON.parse(body))`. */
export const WebhookEvent = z.discriminatedUnion("type", [
  WEBHOOK_EVENT_SCHEMAS["user.created"],
  WEBHOOK_EVENT_SCHEMAS["user.deleted"],
  WEBHOOK_EVENT_SCHEMAS["user.disabled"],
  WEBHOOK_EVENT_SCHEMAS["session.created"],
  WEBHOOK_EVENT_SCHEMAS["session.revoked"],
  WEBHOOK_EVENT_SCHEMAS["password.changed"],
  WEBHOOK_EVENT_SCHEMAS["email.verified"],
  WEBHOOK_EVENT_SCHEMAS["mfa.enabled"],
  WEBHOOK_EVENT_SCHEMAS["mfa.disabled"],
  WEBHOOK_EVENT_SCHEMAS["identity.linked"],
  WEBHOOK_EVENT_SCHEMAS["identity.unlinked"],
]);
export type WebhookEvent = z.infer<typeof WebhookEvent>;
