/** `health`: the process and its database answer. */
import * as z from "zod";
import { appError } from "../server/errors.ts";
import { publicProcedure } from "../server/trpc.ts";

export const healthProcedure = publicProcedure
  .meta({ summary: "The process and its database answer" })
  .output(z.object({ status: z.literal("ok"), db: z.literal("ok") }))
  .query(async ({ ctx }) => {
    if (!(await ctx.services.db.ping())) throw appError("DB_UNAVAILABLE");
    return { status: "ok" as const, db: "ok" as const };
  });
