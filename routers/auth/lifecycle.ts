/** Account-lifecycle procedures of `auth.*`: password change and reset, email verification, deletion, activity. */
import { deleteAccount } from "../../server/identity/deletion.ts";
import { listActivity } from "../../server/audit/activity.ts";
import { requestEmailVerification, verifyEmail } from "../../server/identity/email-verification.ts";
import { changePassword } from "../../server/passwords/change.ts";
import { requestPasswordReset, resetPassword } from "../../server/passwords/reset.ts";
import { protectedProcedure, publicProcedure } from "../../server/trpc.ts";
import { mailRequest } from "./mail-request.ts";
import {
  AuthEventOutput,
  AuthResultOutput,
  ChangePasswordInput,
  DeleteAccountInput,
  ResetPasswordInput,
  SuccessOutput,
  UserOutput,
  VerifyEmailInput,
} from "./schema.ts";
import { succeed } from "../success.ts";

export const lifecycleProcedures = {
  changePassword: protectedProcedure
    .meta({
      summary: "Change the password; opens a new session and revokes every other",
      errors: ["WEAK_PASSWORD", "CURRENT_PASSWORD_INVALID", "PASSWORD_NOT_SET", "RATE_LIMITED", "OVERLOADED"],
    })
    .input(ChangePasswordInput)
    .output(AuthResultOutput)
    .mutation(({ ctx, input }) => changePassword(ctx.services, ctx.user, input, ctx.meta)),

  requestPasswordReset: mailRequest("Email a password-reset link (the same answer for an unknown email)", requestPasswordReset),

  resetPassword: publicProcedure
    .meta({
      summary: "Set a new password with a reset token; revokes every session",
      errors: ["WEAK_PASSWORD", "RESET_TOKEN_INVALID", "OVERLOADED"],
    })
    .input(ResetPasswordInput)
    .output(SuccessOutput)
    .mutation(
      succeed(async ({ ctx, input }) => {
        ctx.audit.userId = await resetPassword(ctx.services, input, ctx.meta);
      }),
    ),

  requestEmailVerification: protectedProcedure
    .meta({ summary: "Email a new verification link" })
    .output(SuccessOutput)
    .mutation(succeed(({ ctx }) => requestEmailVerification(ctx.services, ctx.user, ctx.meta, ctx.requestId))),

  verifyEmail: publicProcedure
    .meta({ summary: "Verify the email address with a verification token", errors: ["VERIFICATION_TOKEN_INVALID"] })
    .input(VerifyEmailInput)
    .output(UserOutput)
    .mutation(async ({ ctx, input }) => {
      const user = await verifyEmail(ctx.services, input.token, ctx.meta);
      ctx.audit.userId = user.id;
      return user;
    }),

  deleteAccount: protectedProcedure
    .meta({
      summary: "Delete the account, its sessions and tokens (password required)",
      errors: ["CURRENT_PASSWORD_INVALID", "PASSWORD_NOT_SET", "LAST_ADMIN", "RATE_LIMITED", "OVERLOADED"],
    })
    .input(DeleteAccountInput)
    .output(SuccessOutput)
    .mutation(succeed(({ ctx, input }) => deleteAccount(ctx.services, ctx.user, input.password, ctx.meta.ip))),

  activity: protectedProcedure
    .meta({ summary: "The user's last 50 auth events, newest first" })
    .output(AuthEventOutput.array())
    .query(({ ctx }) => listActivity(ctx.services, ctx.user.id)),
};
