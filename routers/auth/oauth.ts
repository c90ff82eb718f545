/** OAuth / OpenID Connect procedures of `auth.*`: the code exchange, explicit linking, and the linked identities. */
import * as z from "zod";
import { startLink } from "../../server/oauth/callback.ts";
import { listIdentities, unlinkIdentity } from "../../server/oauth/identities.ts";
import { exchangeOAuthCode } from "../../server/oauth/sign-in.ts";
import { protectedProcedure, publicProcedure } from "../../server/trpc.ts";
import {
  IdentityOutput,
  LinkOAuthInput,
  LinkOAuthOutput,
  LoginOutput,
  OAuthCodeInput,
  SuccessOutput,
  UnlinkIdentityInput,
} from "./schema.ts";
import { succeed } from "../success.ts";

export const oauthProcedures = {
  oauthProviders: publicProcedure
    .meta({ summary: "The names of the configured sign-in providers, for GET /oauth/<provider>/start" })
    .output(z.array(z.string()))
    .query(({ ctx }) => [...ctx.services.oauth.keys()]),

  exchangeOAuthCode: publicProcedure
    .meta({
      summary: "Sign in with the one-time code an OAuth callback put in the redirect; answers a second-factor challenge when the user has one",
      errors: ["OAUTH_CODE_INVALID", "ACCOUNT_LINK_REQUIRED", "OAUTH_EMAIL_MISSING"],
    })
    .input(OAuthCodeInput)
    .output(LoginOutput)
    .mutation(({ ctx, input }) => exchangeOAuthCode(ctx.services, input.code, ctx.meta)),

  linkOAuth: protectedProcedure
    .meta({
      summary: "Start linking a provider to this account: open the returned URL; the callback links it and redirects with linked=<provider>",
      errors: ["OAUTH_PROVIDER_UNKNOWN", "OAUTH_REDIRECT_INVALID", "OAUTH_PROVIDER_UNAVAILABLE"],
    })
    .input(LinkOAuthInput)
    .output(LinkOAuthOutput)
    .mutation(async ({ ctx, input }) => ({
      url: await startLink(ctx.services, { userId: ctx.user.id, sessionId: ctx.session.id }, input.provider, input.redirect),
    })),

  identities: protectedProcedure
    .meta({ summary: "The provider identities linked to this account, oldest first" })
    .output(IdentityOutput.array())
    .query(({ ctx }) => listIdentities(ctx.services.prisma, ctx.user.id)),

  unlinkIdentity: protectedProcedure
    .meta({
      summary: "Unlink a provider identity; refused when it is the last way to sign in",
      errors: ["NOT_FOUND", "LAST_SIGN_IN_METHOD"],
    })
    .input(UnlinkIdentityInput)
    .output(SuccessOutput)
    .mutation(succeed(({ ctx, input }) => unlinkIdentity(ctx.services, ctx.user.id, input.id, ctx.meta))),
};
