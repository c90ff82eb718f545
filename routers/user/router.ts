/** The `user` router: the signed-in user's own profile. */
import { updateProfile } from "../../server/identity/profile.ts";
import { protectedProcedure, router } from "../../server/trpc.ts";
import { UpdateProfileInput, UserOutput } from "./schema.ts";

export const userRouter = router({
  updateProfile: protectedProcedure
    .meta({ summary: "Change the user's name" })
    .input(UpdateProfileInput)
    .output(UserOutput)
    .mutation(({ ctx, input }) => updateProfile(ctx.services, ctx.user.id, input)),
});
