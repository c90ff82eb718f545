/** `auth.events`: the caller's live events over SSE (server/events/). */
import { liveEventStream } from "../../server/events/stream.ts";
import { protectedProcedure } from "../../server/trpc.ts";
import { EventsInput } from "./schema.ts";

export const eventProcedures = {
  events: protectedProcedure
    .meta({ summary: "The user's live events (server-sent events), resuming after lastEventId" })
    .input(EventsInput)
    .subscription(({ ctx, input, signal }) => liveEventStream(ctx.services, ctx.user.id, ctx.session.id, input?.lastEventId, signal)),
};
