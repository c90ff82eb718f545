/** What happened to an endpoint's deliveries (`admin.webhookDeliveries`), and sending one again (`admin.redeliver`). */
import type { PrismaClient } from "../db/database.ts";
import type { Prisma } from "../generated/prisma/client.ts";
import { appError } from "../errors.ts";

/** How many deliveries `admin.webhookDeliveries` answers by default, and at most. */
export const DELIVERIES_DEFAULT_LIMIT = 50;
export const DELIVERIES_MAX_LIMIT = 100;

/** A delivery as admins see it, with its attempts oldest first. */
export const deliverySelect = {
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

/** `admin.webhookDeliveries`: an endpoint's deliveries, newest first, `before` a time for the next page. */
export async function listDeliveries(
  deps: { prisma: Pick<PrismaClient, "webhook" | "webhookDelivery"> },
  input: { webhookId: string; before?: Date; limit?: number },
) {
  const webhook = await deps.prisma.webhook.findUnique({ where: { id: input.webhookId }, select: { id: true } });
  if (!webhook) throw appError("NOT_FOUND");
  return deps.prisma.webhookDelivery.findMany({
    where: { webhookId: input.webhookId, ...(input.before ? { createdAt: { lt: input.before } } : {}) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit ?? DELIVERIES_DEFAULT_LIMIT,
    select: deliverySelect,
  });
}

/**
 * `admin.redeliver`: the delivery is due now, with a fresh retry schedule,
 * whatever became of it (a receiver that lost it, a failed one whose endpoint
 * is back). It keeps its event id, so a receiver that deduplicates by
 * `webhook-id` sees it once. One that is being attempted right now answers
 * WEBHOOK_DELIVERY_BUSY: its attempt decides, and it may be redelivered after.
 */
export async function redeliver(deps: { prisma: Pick<PrismaClient, "webhookDelivery">; now: () => Date }, deliveryId: string) {
  const { count } = await deps.prisma.webhookDelivery.updateMany({
    where: { id: deliveryId, status: { not: "delivering" } },
    data: { status: "pending", attemptCount: 0, nextAttemptAt: deps.now(), leaseId: null },
  });
  if (count === 0) {
    const exists = await deps.prisma.webhookDelivery.count({ where: { id: deliveryId } });
    throw appError(exists ? "WEBHOOK_DELIVERY_BUSY" : "NOT_FOUND");
  }
  return deps.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId }, select: deliverySelect });
}
