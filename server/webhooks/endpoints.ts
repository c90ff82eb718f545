/**
 * Managing webhook endpoints (`admin.createWebhook`, `admin.listWebhooks`,
 * `admin.deleteWebhook`). The signing secret is answered once, at creation,
 * and stored sealed: it has to be read back to sign, so it cannot be hashed.
 */
import type { PrismaClient } from "../db/database.ts";
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

/** An endpoint as admins see it: never its secret. */
export const webhookSelect = { id: true, url: true, events: true, createdAt: true, createdBy: true } as const;

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
  actorId: string | null,
): Promise<{ id: string; secret: string }> {
  await checkTarget(deps, input.url);
  const secret = newWebhookSecret();
  const id = crypto.randomUUID();
  await deps.prisma.webhook.create({
    data: {
      id,
      url: input.url,
      events: [...new Set(input.events)],
      secretSealed: deps.sealer.seal(secret, secretSealContext(id)),
      createdAt: deps.now(),
      createdBy: actorId,
    },
  });
  return { id, secret };
}

/** `admin.listWebhooks`: every endpoint, oldest first. */
export function listWebhooks(deps: Pick<WebhookDeps, "prisma">) {
  return deps.prisma.webhook.findMany({ select: webhookSelect, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
}

/** `admin.deleteWebhook`: the endpoint and its deliveries (pending ones are not sent). */
export async function deleteWebhook(deps: Pick<WebhookDeps, "prisma">, id: string): Promise<void> {
  const { count } = await deps.prisma.webhook.deleteMany({ where: { id } });
  if (count === 0) throw appError("NOT_FOUND");
}
