/** Passwordless procedures of `auth.*`: magic links, email codes, and a first password for accounts without one. */
import { consumeMagicLink, requestEmailCode, requestMagicLink, verifyEmailCode } from "../../server/passwordless/sign-in.ts";
import { setPassword } from "../../server/passwords/set-password.ts";
import { protectedProcedure, publicProcedure } from "../../server/trpc.ts";
import { mailRequest } from "./mail-request.ts";
import { LoginOutput, SetPasswordInput, SuccessOutput, TokenInput, VerifyEmailCodeInput } from "./schema.ts";
import { succeed } from "../success.ts";

export const passwordlessProcedures = {
  requestMagicLink: mailRequest("Email a sign-in link (15 minutes, single use); the same answer for an unknown email", requestMagicLink),

  consumeMagicLink: publicProcedure
    .meta({
      summary: "Sign in with a magic link's token; answers a second-factor challenge when the user has one",
      errors: ["MAGIC_LINK_INVALID"],
    })
    .input(TokenInput)
    .output(LoginOutput)
    .mutation(({ ctx, input }) => consumeMagicLink(ctx.services, input.token, ctx.meta)),

  requestEmailCode: mailRequest("Email a six-digit sign-in code (10 minutes, 5 attempts); the same answer for an unknown email", requestEmailCode),

  verifyEmailCode: publicProcedure
    .meta({
      summary: "Sign in with an emailed code; answers a second-factor challenge when the user has one",
      errors: ["EMAIL_CODE_INVALID"],
    })
    .input(VerifyEmailCodeInput)
    .output(LoginOutput)
    .mutation(({ ctx, input }) => verifyEmailCode(ctx.services, input, ctx.meta)),

  setPassword: protectedProcedure
    .meta({
      summary: "Add a password to an account that has none (created by OAuth)",
      errors: ["WEAK_PASSWORD", "PASSWORD_ALREADY_SET", "OVERLOADED"],
    })
    .input(SetPasswordInput)
    .output(SuccessOutput)
    .mutation(succeed(({ ctx, input }) => setPassword(ctx.services, ctx.user, input.newPassword, ctx.meta))),
};
