/** The `mfa` router: TOTP enrolment and recovery codes for the signed-in user. */
import { disableTotp, enableTotp, mfaStatus, regenerateRecoveryCodes, setupTotp } from "../../server/mfa/enrolment.ts";
import { protectedProcedure, router } from "../../server/trpc.ts";
import { SuccessOutput } from "../auth/schema.ts";
import { MfaStatusOutput, PasswordInput, RecoveryCodesOutput, TotpDisableInput, TotpEnableInput, TotpSetupOutput } from "./schema.ts";
import { succeed } from "../success.ts";

const PASSWORD_ERRORS = ["CURRENT_PASSWORD_INVALID", "PASSWORD_NOT_SET", "RATE_LIMITED", "OVERLOADED"] as const;

export const mfaRouter = router({
  status: protectedProcedure
    .meta({ summary: "Which second factors the user has" })
    .output(MfaStatusOutput)
    .query(({ ctx }) => mfaStatus(ctx.services, ctx.user.id)),

  totpSetup: protectedProcedure
    .meta({
      summary: "Start TOTP setup: a new secret, its otpauth:// URL and QR code (inactive until confirmed)",
      errors: [...PASSWORD_ERRORS, "MFA_ALREADY_ENABLED"],
    })
    .input(PasswordInput)
    .output(TotpSetupOutput)
    .mutation(({ ctx, input }) => setupTotp(ctx.services, ctx.user, input.password)),

  totpEnable: protectedProcedure
    .meta({
      summary: "Confirm TOTP setup with a code; answers the recovery codes, once",
      errors: ["MFA_CODE_INVALID", "MFA_NOT_ENABLED", "MFA_ALREADY_ENABLED", "RATE_LIMITED"],
    })
    .input(TotpEnableInput)
    .output(RecoveryCodesOutput)
    .mutation(({ ctx, input }) => enableTotp(ctx.services, ctx.user, input.code, ctx.meta)),

  totpDisable: protectedProcedure
    .meta({ summary: "Turn TOTP off (password and a current code)", errors: [...PASSWORD_ERRORS, "MFA_CODE_INVALID", "MFA_NOT_ENABLED"] })
    .input(TotpDisableInput)
    .output(SuccessOutput)
    .mutation(succeed(({ ctx, input }) => disableTotp(ctx.services, ctx.user, input, ctx.meta))),

  recoveryCodesRegenerate: protectedProcedure
    .meta({ summary: "Ten new recovery codes; the old ones stop working", errors: [...PASSWORD_ERRORS, "MFA_NOT_ENABLED"] })
    .input(PasswordInput)
    .output(RecoveryCodesOutput)
    .mutation(({ ctx, input }) => regenerateRecoveryCodes(ctx.services, ctx.user, input.password, ctx.meta)),
});
