/** The `passkey` router: WebAuthn passkeys, added while signed in and used to sign in. */
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { authenticateWithPasskey, passkeyAuthenticationOptions } from "../../server/passkeys/authentication.ts";
import { listPasskeys, removePasskey } from "../../server/passkeys/manage.ts";
import { passkeyRegistrationOptions, registerPasskey } from "../../server/passkeys/registration.ts";
import { protectedProcedure, publicProcedure, router } from "../../server/trpc.ts";
import { AuthResultOutput, SuccessOutput } from "../auth/schema.ts";
import { succeed } from "../success.ts";
import {
  AuthenticatePasskeyInput,
  AuthenticationOptionsOutput,
  CreationOptionsOutput,
  PasskeyOutput,
  RegisterPasskeyInput,
  RemovePasskeyInput,
} from "./schema.ts";

// The schemas check the JSON shape of a WebAuthn response; the library checks
// everything in it. (Its types spell enums the schema leaves open, e.g. transports.)
const asRegistration = (response: unknown) => response as RegistrationResponseJSON;
const asAuthentication = (response: unknown) => response as AuthenticationResponseJSON;

export const passkeyRouter = router({
  registrationOptions: protectedProcedure
    .meta({ summary: "WebAuthn creation options for a new passkey" })
    .output(CreationOptionsOutput)
    .mutation(({ ctx }) => passkeyRegistrationOptions(ctx.services, ctx.user)),

  register: protectedProcedure
    .meta({ summary: "Add a passkey from a WebAuthn registration response", errors: ["PASSKEY_INVALID"] })
    .input(RegisterPasskeyInput)
    .output(PasskeyOutput)
    .mutation(({ ctx, input }) =>
      registerPasskey(ctx.services, ctx.user, { response: asRegistration(input.response), name: input.name }, ctx.meta),
    ),

  list: protectedProcedure
    .meta({ summary: "The user's passkeys, newest first" })
    .output(PasskeyOutput.array())
    .query(({ ctx }) => listPasskeys(ctx.services, ctx.user.id)),

  remove: protectedProcedure
    .meta({
      summary: "Remove a passkey (password required)",
      errors: ["CURRENT_PASSWORD_INVALID", "PASSWORD_NOT_SET", "NOT_FOUND", "RATE_LIMITED", "OVERLOADED"],
    })
    .input(RemovePasskeyInput)
    .output(SuccessOutput)
    .mutation(succeed(({ ctx, input }) => removePasskey(ctx.services, ctx.user, input, ctx.meta))),

  authenticationOptions: publicProcedure
    .meta({ summary: "A WebAuthn challenge to sign in with a passkey" })
    .output(AuthenticationOptionsOutput)
    .mutation(({ ctx }) => passkeyAuthenticationOptions(ctx.services)),

  authenticate: publicProcedure
    .meta({ summary: "Sign in with a passkey (a full sign-in, even with TOTP on)", errors: ["PASSKEY_INVALID"] })
    .input(AuthenticatePasskeyInput)
    .output(AuthResultOutput)
    .mutation(({ ctx, input }) =>
      authenticateWithPasskey(ctx.services, { challengeId: input.challengeId, response: asAuthentication(input.response) }, ctx.meta),
    ),
});
