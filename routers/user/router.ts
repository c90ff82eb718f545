/** The `user` router: the signed-in user's own profile. */
import { updateProfile } from "../../server/identity/profile.ts";
import { protectedProcedure, router } from "../../server/trpc.ts";
import { restMutation } from "../openapi.ts";
import { UpdateProfileInput, UserOutput } from "./schema.ts";

export const userRouter = router({
  updateProfile: protectedProcedure
    .meta(
      restMutation({
        path: "/user/updateProfile",
        summary: "Change the user's name",
        bearer: true,
        errors: ["VALIDATION_FAILED"],
      }),
    )
    .input(UpdateProfileInput)
    .output(UserOutput)
    .mutation(({ ctx, input }) => updateProfile(ctx.services, ctx.user.id, input)),
});
