/** Account-lifecycle procedures of `auth.*`: password change and reset, email verification, deletion, activity. */
import { deleteAccount } from "../../server/auth/account-deletion.ts";
import { listActivity } from "../../server/auth/activity.ts";
import { requestEmailVerification, verifyEmail } from "../../server/auth/email-verification.ts";
import { changePassword } from "../../server/auth/password-change.ts";
import { requestPasswordReset, resetPassword } from "../../server/auth/password-reset.ts";
import { protectedProcedure, publicProcedure } from "../../server/trpc.ts";
import {
  AuthEventOutput,
  AuthResultOutput,
  ChangePasswordInput,
  DeleteAccountInput,
  RequestPasswordResetInput,
  ResetPasswordInput,
  SuccessOutput,
  UserOutput,
  VerifyEmailInput,
} from "./schema.ts";

const success = { success: true as const };

export const lifecycleProcedures = {
  changePassword: protectedProcedure
    .input(ChangePasswordInput)
    .output(AuthResultOutput)
    .mutation(({ ctx, input }) => changePassword(ctx.services, ctx.user, input, ctx.meta)),

  requestPasswordReset: publicProcedure
    .input(RequestPasswordResetInput)
    .output(SuccessOutput)
    .mutation(async ({ ctx, input }) => {
      await requestPasswordReset(ctx.services, input.email, ctx.meta, ctx.requestId);
      return success;
    }),

  resetPassword: publicProcedure
    .input(ResetPasswordInput)
    .output(SuccessOutput)
    .mutation(async ({ ctx, input }) => {
      await resetPassword(ctx.services, input, ctx.meta);
      return success;
    }),

  requestEmailVerification: protectedProcedure.output(SuccessOutput).mutation(async ({ ctx }) => {
    await requestEmailVerification(ctx.services, ctx.user, ctx.requestId);
    return success;
  }),

  verifyEmail: publicProcedure
    .input(VerifyEmailInput)
    .output(UserOutput)
    .mutation(({ ctx, input }) => verifyEmail(ctx.services, input.token, ctx.meta)),

  deleteAccount: protectedProcedure
    .input(DeleteAccountInput)
    .output(SuccessOutput)
    .mutation(async ({ ctx, input }) => {
      await deleteAccount(ctx.services, ctx.user.id, input.password);
      return success;
    }),

  activity: protectedProcedure
    .output(AuthEventOutput.array())
    .query(({ ctx }) => listActivity(ctx.services, ctx.user.id)),
};
