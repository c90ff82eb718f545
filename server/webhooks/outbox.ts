/**
 * The outbox's two moves: claiming due deliveries, and settling an attempt.
 * Rows are written by the database triggers of migration
 * 20261130173000_webhooks, in the transaction of the change they report.
 */
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "../db/database.ts";
import { retryDelayMs } from "./schedule.ts";
import type { SendResult } from "./send.ts";

/** The NOTIFY channel the outbox triggers announce new deliveries on (and `admin.redeliver`). */
export const WEBHOOK_CHANNEL = "gatehouse_webhooks";

/** A delivery claimed for one attempt, with what is needed to make it. */
export interface ClaimedDelivery {
  id: string;
  webhookId: string;
  eventId: string;
  payload: unknown;
  /** Attempts so far in this round, this one included. */
  attemptCount: number;
  leaseId: string;
  url: string;
  secretSealed: string;
}

/**
 * Claims up to `limit` due deliveries for `leaseMs`. One statement, so one
 * transaction: the subquery locks the due rows it picks and skips those
 * another instance has locked (FOR UPDATE SKIP LOCKED), and the update leases
 * them before the locks are released, so each attempt runs on exactly one
 * instance. While a delivery is `delivering`, `next_attempt_at` is the end of
 * its lease: a claim whose worker died (SIGKILL, a lost machine) becomes due
 * again when the lease runs out, and the delivery is tried again.
 *
 * Claims and settlements commit without waiting for the WAL flush
 * (`synchronous_commit` off for their own transaction only, set by the
 * statement itself through `set_config(…, true)` in a CTE it joins, so it
 * stays one round trip; PostgreSQL manual, "Asynchronous Commit"): a crash
 * can lose the last few of them, never
 * corrupt anything, and losing one only puts a delivery back where it was
 * (due, or leased until its lease runs out), so it is attempted again, which
 * at-least-once delivery allows. The flush per attempt would otherwise cap
 * throughput at the disk's fsync rate. The outbox rows themselves are written
 * by the change's own transaction, with the durability it asks for.
 */
export async function claimDueDeliveries(
  prisma: Pick<PrismaClient, "$queryRaw">,
  now: Date,
  leaseMs: number,
  limit: number,
): Promise<ClaimedDelivery[]> {
  const leaseEnd = new Date(now.getTime() + leaseMs);
  return prisma.$queryRaw<ClaimedDelivery[]>`
    WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true))
    UPDATE "webhook_deliveries" AS d
    SET "status" = 'delivering', "lease_id" = gen_random_uuid(), "attempt_count" = d."attempt_count" + 1, "next_attempt_at" = ${leaseEnd}
    FROM (
      SELECT "id" FROM "webhook_deliveries"
      WHERE "status" IN ('pending', 'delivering') AND "next_attempt_at" <= ${now}
      ORDER BY "next_attempt_at"
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ) AS due, "webhooks" AS w, async_commit
    WHERE d."id" = due."id" AND w."id" = d."webhook_id"
    RETURNING d."id", d."webhook_id" AS "webhookId", d."event_id" AS "eventId", d."payload",
      d."attempt_count" AS "attemptCount", d."lease_id" AS "leaseId", w."url", w."secret_sealed" AS "secretSealed"`;
}

/** One finished attempt: when it started, how long it took, and what came of it. */
export interface AttemptOutcome {
  startedAt: Date;
  durationMs: number;
  result: SendResult;
}

/**
 * Records an attempt and moves its delivery on: succeeded, due again after
 * the backoff, or failed once the schedule is spent, in one statement. Only the holder of the lease moves the
 * delivery (a late finisher whose lease ran out, or whose delivery was
 * redelivered meanwhile, only adds its attempt); a delivery deleted with its
 * endpoint meanwhile gets no attempt row. Committed asynchronously, as claims
 * are (claimDueDeliveries says why).
 */
export async function settleAttempt(
  prisma: Pick<PrismaClient, "$executeRaw">,
  claimed: Pick<ClaimedDelivery, "id" | "leaseId" | "attemptCount">,
  outcome: AttemptOutcome,
  now: Date,
  retryBaseMs: number,
): Promise<void> {
  const { result } = outcome;
  const delay = result.ok ? null : retryDelayMs(claimed.attemptCount, retryBaseMs);
  const status = result.ok ? "succeeded" : delay === null ? "failed" : "pending";
  const nextAttemptAt = delay === null ? null : new Date(now.getTime() + delay);
  const deliveredAt = result.ok ? now : null;
  await prisma.$executeRaw`
    WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
    settled AS (
      UPDATE "webhook_deliveries"
      SET "status" = ${status}::"webhook_delivery_status",
        "next_attempt_at" = COALESCE(${nextAttemptAt}::timestamptz, "next_attempt_at"),
        "delivered_at" = COALESCE(${deliveredAt}::timestamptz, "delivered_at"),
        "lease_id" = NULL
      WHERE "id" = ${claimed.id}::uuid AND "lease_id" = ${claimed.leaseId}::uuid
    )
    INSERT INTO "webhook_attempts" ("id", "delivery_id", "started_at", "duration_ms", "status_code", "error", "response")
    SELECT ${randomUUID()}::uuid, "id", ${outcome.startedAt}::timestamptz, ${outcome.durationMs}::int, ${result.statusCode}::int, ${result.error}, ${result.response}
    FROM "webhook_deliveries", async_commit WHERE "id" = ${claimed.id}::uuid`;
}

/** Deliveries not yet delivered, by status, for `/metrics` (`gatehouse_webhook_backlog`). */
export async function webhookBacklog(prisma: Pick<PrismaClient, "webhookDelivery">): Promise<Record<"pending" | "delivering" | "failed", number>> {
  const groups = await prisma.webhookDelivery.groupBy({ by: ["status"], where: { status: { in: ["pending", "delivering", "failed"] } }, _count: { _all: true } });
  const backlog = { pending: 0, delivering: 0, failed: 0 };
  for (const group of groups) if (group.status !== "succeeded") backlog[group.status] = group._count._all;
  return backlog;
}
