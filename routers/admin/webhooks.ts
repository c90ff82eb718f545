/**
 * The webhook procedures of the `admin` router: endpoints, their deliveries
 * and redelivery, all under `webhooks:manage`. Each calls one function of
 * server/webhooks/.
 */
import { listDeliveries, redeliver } from "../../server/webhooks/deliveries.ts";
import { createWebhook, deleteWebhook, listWebhooks } from "../../server/webhooks/endpoints.ts";
import { adminProcedure } from "../../server/trpc.ts";
import { SuccessOutput } from "../auth/schema.ts";
import { actor } from "./actor.ts";
import {
  CreateWebhookInput,
  CreateWebhookOutput,
  DeliveriesInput,
  DeliveryIdInput,
  DeliveryOutput,
  WebhookIdInput,
  WebhookOutput,
} from "./webhook-schema.ts";
import { succeed } from "../success.ts";

export const webhookProcedures = {
  createWebhook: adminProcedure("webhooks:manage")
    .meta({
      summary: "Add an endpoint for some events; answers its signing secret (whsec_…), shown this once",
      errors: ["WEBHOOK_URL_REFUSED"],
    })
    .input(CreateWebhookInput)
    .output(CreateWebhookOutput)
    .mutation(({ ctx, input }) => createWebhook(ctx.services, input, actor(ctx))),

  listWebhooks: adminProcedure("webhooks:manage")
    .meta({ summary: "Every endpoint, oldest first (never its secret)" })
    .output(WebhookOutput.array())
    .query(({ ctx }) => listWebhooks(ctx.services)),

  deleteWebhook: adminProcedure("webhooks:manage")
    .meta({ summary: "Remove an endpoint with its deliveries; pending ones are not sent", errors: ["NOT_FOUND"] })
    .input(WebhookIdInput)
    .output(SuccessOutput)
    .mutation(succeed(({ ctx, input }) => deleteWebhook(ctx.services, input.webhookId, actor(ctx)))),

  webhookDeliveries: adminProcedure("webhooks:manage")
    .meta({ summary: "An endpoint's deliveries with their attempts, newest first", errors: ["NOT_FOUND"] })
    .input(DeliveriesInput)
    .output(DeliveryOutput.array())
    .query(({ ctx, input }) => listDeliveries(ctx.services, input)),

  redeliver: adminProcedure("webhooks:manage")
    .meta({
      summary: "Send a delivery again now, with a fresh retry schedule and the same webhook-id",
      errors: ["NOT_FOUND", "WEBHOOK_DELIVERY_BUSY"],
    })
    .input(DeliveryIdInput)
    .output(DeliveryOutput)
    .mutation(({ ctx, input }) => redeliver(ctx.services, input.deliveryId, actor(ctx))),
};
