/** Inputs and outputs of the `mfa.*` procedures. */
import * as z from "zod";
import { SecondFactorCode } from "../auth/schema.ts";

const CurrentPassword = z.string().min(1, "Password is required").max(128, "Password must be at most 128 characters");

export const PasswordInput = z.object({ password: CurrentPassword });
export const TotpEnableInput = z.object({
  code: z.string().trim().regex(/^\d{6}$/, "Code must be 6 digits"),
});
export const TotpDisableInput = z.object({ password: CurrentPassword, code: SecondFactorCode });

export const MfaStatusOutput = z.object({
  totp: z.boolean(),
  recoveryCodesLeft: z.number().int(),
  passkeys: z.number().int(),
});
export const TotpSetupOutput = z.object({ secret: z.string(), otpauthUrl: z.string(), qrSvg: z.string() });
export const RecoveryCodesOutput = z.object({ recoveryCodes: z.array(z.string()) });
