/**
 * The delivery worker of one instance. It wakes on NOTIFY (a transaction
 * that wrote deliveries committed) and every WEBHOOK_POLL_MS (retries coming
 * due, notices missed while the LISTEN connection was down), claims due
 * deliveries, and makes one attempt of each. Every instance runs one; the
 * claim decides which instance makes which attempt (server/webhooks/outbox.ts).
 */
import type { Database, PrismaClient } from "../db/database.ts";
import type { Logger } from "../log.ts";
import type { Sealer } from "../secrets/sealer.ts";
import { claimDueDeliveries, settleAttempt, WEBHOOK_CHANNEL, type ClaimedDelivery } from "./outbox.ts";
import { WebhookEvent } from "./payloads.ts";
import { sendWebhook, type SendResult } from "./send.ts";
import { secretSealContext, signedHeaders } from "./signing.ts";
import { resolveTarget, TargetRefusedError, type Resolve, type TargetPolicy } from "./target.ts";

/** Time a claim leaves beyond the attempt's deadlines, for recording it. */
const LEASE_MARGIN_MS = 5_000;

export interface WebhookWorkerDeps {
  prisma: PrismaClient;
  db: Pick<Database, "listen">;
  sealer: Sealer;
  log: Logger;
  now: () => Date;
}

export interface WebhookWorkerOptions {
  /** How often due deliveries are looked for without a NOTIFY, in ms. */
  pollMs: number;
  /** Deadline of resolving an attempt's target, and of its request (connection and answer), in ms. */
  timeoutMs: number;
  /** Delay before the first retry; later ones grow from it (server/webhooks/schedule.ts). */
  retryBaseMs: number;
  /** Deliveries attempted at once by this instance. */
  concurrency: number;
  policy: TargetPolicy;
  /** Name resolution (tests resolve names of their own). */
  resolve?: Resolve;
}

/** Claims and attempts due deliveries until stopped. */
export class WebhookWorker {
  #timer: NodeJS.Timeout | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  constructor(
    private readonly deps: WebhookWorkerDeps,
    private readonly options: WebhookWorkerOptions,
  ) {}

  /** How long a claim lasts: the deadlines of resolving the target and of the request, and a margin. */
  get leaseMs(): number {
    return 2 * this.options.timeoutMs + LEASE_MARGIN_MS;
  }

  async start(): Promise<void> {
    this.#unlisten = await this.deps.db.listen(WEBHOOK_CHANNEL, () => this.wake());
    this.#timer = setInterval(() => this.wake(), this.options.pollMs);
    this.#timer.unref();
    this.wake();
  }

  /** Looks for due deliveries now (once more after the current pass, if one is running). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain().finally(() => {
      this.#running = null;
      if (this.#again) {
        this.#again = false;
        this.wake();
      }
    });
  }

  /** Stops claiming, and waits for the attempts in flight to be recorded. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#unlisten?.();
    await this.#running;
  }

  /**
   * Keeps up to `concurrency` attempts in flight: claims as many due
   * deliveries as there are free slots, and claims again as each attempt
   * ends, until nothing is due and nothing is in flight.
   */
  async #drain(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    try {
      while (!this.#stopped) {
        this.#again = false;
        const free = this.options.concurrency - inFlight.size;
        const claimed = free > 0 ? await claimDueDeliveries(this.deps.prisma, this.deps.now(), this.leaseMs, free) : [];
        for (const delivery of claimed) {
          const attempt: Promise<void> = this.#attempt(delivery).finally(() => inFlight.delete(attempt));
          inFlight.add(attempt);
        }
        if (inFlight.size === 0) return;
        // A full house, or nothing more due for now: wait for a slot (or a wake) before claiming again.
        if (claimed.length === 0 || inFlight.size === this.options.concurrency) await Promise.race(inFlight);
      }
    } catch (error) {
      // The database is unreachable or shutting down: the next wake tries again.
      this.deps.log.warn({ err: { message: (error as Error).message } }, "webhook deliveries could not be claimed or recorded");
    } finally {
      await Promise.all(inFlight);
    }
  }

  async #attempt(delivery: ClaimedDelivery): Promise<void> {
    const startedAt = this.deps.now();
    const started = performance.now();
    const result = await this.#send(delivery, startedAt);
    const durationMs = Math.round(performance.now() - started);
    try {
      await settleAttempt(this.deps.prisma, delivery, { startedAt, durationMs, result }, this.deps.now(), this.options.retryBaseMs);
    } catch (error) {
      // The endpoint was deleted during the attempt (its deliveries went with it), or the database is away:
      // the lease runs out and the delivery, if it still exists, is tried again.
      this.deps.log.warn({ deliveryId: delivery.id, err: { message: (error as Error).message } }, "webhook attempt could not be recorded");
    }
    if (!result.ok) this.deps.log.info({ deliveryId: delivery.id, webhookId: delivery.webhookId, attempt: delivery.attemptCount, error: result.error }, "webhook attempt failed");
  }

  async #send(delivery: ClaimedDelivery, startedAt: Date): Promise<SendResult> {
    const { timeoutMs } = this.options;
    try {
      const url = new URL(delivery.url);
      const addresses = await withDeadline(resolveTarget(url, this.options.policy, this.options.resolve), timeoutMs);
      const secret = openSecret(this.deps.sealer, delivery);
      // Parsed for its key order (type, timestamp, data); the triggers wrote it, so it parses.
      const event = WebhookEvent.safeParse(delivery.payload);
      const body = JSON.stringify(event.success ? event.data : delivery.payload);
      const headers = signedHeaders(secret, delivery.eventId, startedAt, body);
      return await sendWebhook({ url, addresses, headers, body, timeoutMs });
    } catch (error) {
      const reason = error instanceof TargetRefusedError ? `refused: ${error.message}` : (error as Error).message;
      return { ok: false, statusCode: null, error: reason, response: null };
    }
  }
}

/** The endpoint's signing secret; a clear reason on the attempt when ENCRYPTION_KEY no longer opens it. */
function openSecret(sealer: Sealer, delivery: ClaimedDelivery): string {
  try {
    return sealer.open(delivery.secretSealed, secretSealContext(delivery.webhookId));
  } catch {
    throw new Error("the endpoint's secret could not be opened (was ENCRYPTION_KEY changed?)");
  }
}

/** `work`, or a rejection once `ms` have passed. */
async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
