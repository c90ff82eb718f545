/** What happened to an endpoint's deliveries (`admin.webhookDeliveries`), and sending one again (`admin.redeliver`). */
import type { PrismaClient } from "../db/database.ts";
import type { Prisma } from "../generated/prisma/client.ts";
import type { WebhookEvent, WebhookEventType } from "./payloads.ts";
import { appError } from "../errors.ts";
import { webhookAuditEntry, type WebhookActor } from "./endpoints.ts";
import { WEBHOOK_CHANNEL } from "./outbox.ts";

/** How many deliveries `admin.webhookDeliveries` answers by default, and at most. */
export const DELIVERIES_DEFAULT_LIMIT = 50;
export const DELIVERIES_MAX_LIMIT = 100;

/** A delivery as admins see it, with its attempts oldest first. */
const deliverySelect = {
  id: true,
  webhookId: true,
  eventId: true,
  eventType: true,
  payload: true,
  status: true,
  attemptCount: true,
  nextAttemptAt: true,
  createdAt: true,
  deliveredAt: true,
  attempts: {
    select: { startedAt: true, durationMs: true, statusCode: true, error: true, response: true },
    orderBy: [{ startedAt: "asc" }, { id: "asc" }],
  },
} satisfies Prisma.WebhookDeliverySelect;

type DeliveryRow = Prisma.WebhookDeliveryGetPayload<{ select: typeof deliverySelect }>;

/**
 * A delivery row as typed for admins. Rows are written only by the outbox
 * triggers, whose event types and payloads are those of server/webhooks/payloads.ts;
 * the output schema checks them again on the way out.
 */
function deliveryView(row: DeliveryRow) {
  return { ...row, eventType: row.eventType as WebhookEventType, payload: row.payload as WebhookEvent };
}

/**
 * `admin.webhookDeliveries`: an endpoint's deliveries, newest first. The next
 * page starts after `cursor`, the id of the last delivery of the page before:
 * deliveries of one transaction share their `createdAt`, so the order (and
 * the cursor) is (createdAt, id).
 */
export async function listDeliveries(
  deps: { prisma: Pick<PrismaClient, "webhook" | "webhookDelivery"> },
  input: { webhookId: string; cursor?: string; limit?: number },
) {
  const webhook = await deps.prisma.webhook.findUnique({ where: { id: input.webhookId }, select: { id: true } });
  if (!webhook) throw appError("NOT_FOUND");
  let after: Prisma.WebhookDeliveryWhereInput = {};
  if (input.cursor !== undefined) {
    const last = await deps.prisma.webhookDelivery.findFirst({ where: { id: input.cursor, webhookId: input.webhookId }, select: { createdAt: true } });
    if (!last) throw appError("NOT_FOUND");
    after = { OR: [{ createdAt: { lt: last.createdAt } }, { createdAt: last.createdAt, id: { lt: input.cursor } }] };
  }
  const rows = await deps.prisma.webhookDelivery.findMany({
    where: { webhookId: input.webhookId, ...after },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit ?? DELIVERIES_DEFAULT_LIMIT,
    select: deliverySelect,
  });
  return rows.map(deliveryView);
}

/**
 * `admin.redeliver`: the delivery is due now, with a fresh retry schedule,
 * whatever became of it (a receiver that lost it, a failed one whose endpoint
 * is back). It keeps its event id, so a receiver that deduplicates by
 * `webhook-id` sees it once. One that is being attempted right now answers
 * WEBHOOK_DELIVERY_BUSY: its attempt decides, and it may be redelivered after.
 */
export async function redeliver(deps: { prisma: PrismaClient; now: () => Date }, deliveryId: string, actor: WebhookActor) {
  const now = deps.now();
  await deps.prisma.$transaction(async (tx) => {
    const { count } = await tx.webhookDelivery.updateMany({
      where: { id: deliveryId, status: { not: "delivering" } },
      data: { status: "pending", attemptCount: 0, nextAttemptAt: now, leaseId: null },
    });
    if (count === 0) {
      const exists = await tx.webhookDelivery.count({ where: { id: deliveryId } });
      throw appError(exists ? "WEBHOOK_DELIVERY_BUSY" : "NOT_FOUND");
    }
    if (actor) await tx.authEvent.create({ data: webhookAuditEntry("webhook_redelivered", actor, now, deliveryId) });
    // Wakes the workers at commit, as the outbox triggers do for new deliveries.
    await tx.$executeRaw`SELECT pg_notify(${WEBHOOK_CHANNEL}, '')`;
  });
  return deliveryView(await deps.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId }, select: deliverySelect }));
}
