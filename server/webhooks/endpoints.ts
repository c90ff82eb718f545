/**
 * Managing webhook endpoints (`admin.createWebhook`, `admin.listWebhooks`,
 * `admin.deleteWebhook`). The signing secret is answered once, at creation,
 * and stored sealed: it has to be read back to sign, so it cannot be hashed.
 */
import { eventData } from "../audit/events.ts";
import type { PrismaClient } from "../db/database.ts";
import type { RequestMeta } from "../deps.ts";
import { appError } from "../errors.ts";
import type { Sealer } from "../secrets/sealer.ts";
import type { WebhookEventType } from "./payloads.ts";
import { newWebhookSecret, secretSealContext } from "./signing.ts";
import { resolveTarget, TargetRefusedError, type Resolve, type TargetPolicy } from "./target.ts";

export interface WebhookDeps {
  prisma: PrismaClient;
  sealer: Sealer;
  now: () => Date;
  webhookPolicy: TargetPolicy;
  /** Name resolution for the target check (tests resolve names of their own). */
  resolveHost?: Resolve;
}

/** The admin acting, for the audit trail; null only where no one acts through the API (tests, scripts). */
export type WebhookActor = { id: string; meta: RequestMeta } | null;

/** The audit entry of an admin's webhook action: no target user, the endpoint or delivery in `detail`. */
export function webhookAuditEntry(type: "webhook_created" | "webhook_deleted" | "webhook_redelivered", actor: NonNullable<WebhookActor>, at: Date, detail: string) {
  return { userId: null, ...eventData(type, actor.meta, at, { actorId: actor.id, detail }) };
}

/** An endpoint as admins see it: never its secret. */
const webhookSelect = { id: true, url: true, events: true, createdAt: true, createdBy: true } as const;

/**
 * The target check of creation: the same as before each attempt. A refusal
 * answers WEBHOOK_URL_REFUSED with the reason (the admin chose the URL).
 */
async function checkTarget(deps: Pick<WebhookDeps, "webhookPolicy" | "resolveHost">, url: string): Promise<void> {
  try {
    await resolveTarget(new URL(url), deps.webhookPolicy, deps.resolveHost);
  } catch (error) {
    if (error instanceof TargetRefusedError) throw appError("WEBHOOK_URL_REFUSED", { message: `Webhook URL refused: ${error.message}` });
    throw error;
  }
}

/** `admin.createWebhook`: the new endpoint's id and its secret, shown this once. */
export async function createWebhook(
  deps: WebhookDeps,
  input: { url: string; events: WebhookEventType[] },
  actor: WebhookActor,
): Promise<{ id: string; secret: string }> {
  await checkTarget(deps, input.url);
  const secret = newWebhookSecret();
  const id = crypto.randomUUID();
  const now = deps.now();
  const data = {
    id,
    url: input.url,
    events: [...new Set(input.events)],
    secretSealed: deps.sealer.seal(secret, secretSealContext(id)),
    createdAt: now,
    createdBy: actor?.id ?? null,
  };
  await deps.prisma.$transaction([
    deps.prisma.webhook.create({ data }),
    ...(actor ? [deps.prisma.authEvent.create({ data: webhookAuditEntry("webhook_created", actor, now, `${id} ${input.url}`) })] : []),
  ]);
  return { id, secret };
}

/** `admin.listWebhooks`: every endpoint, oldest first. */
export async function listWebhooks(deps: Pick<WebhookDeps, "prisma">) {
  const rows = await deps.prisma.webhook.findMany({ select: webhookSelect, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  // Written only by createWebhook from the schema's event names; the output schema checks them again.
  return rows.map((row) => ({ ...row, events: row.events as WebhookEventType[] }));
}

/** `admin.deleteWebhook`: the endpoint and its deliveries (pending ones are not sent). */
export async function deleteWebhook(deps: Pick<WebhookDeps, "prisma" | "now">, id: string, actor: WebhookActor): Promise<void> {
  await deps.prisma.$transaction(async (tx) => {
    const deleted = await tx.webhook.deleteMany({ where: { id } });
    if (deleted.count === 0) throw appError("NOT_FOUND");
    if (actor) await tx.authEvent.create({ data: webhookAuditEntry("webhook_deleted", actor, deps.now(), id) });
  });
}
