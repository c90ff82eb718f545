/** Credential and session procedures of `auth.*`: parse, call the domain, shape the output. */
import { login, register } from "../../server/identity/accounts.ts";
import { verifyMfa } from "../../server/mfa/sign-in.ts";
import { refreshSession } from "../../server/sessions/refresh.ts";
import { listSessions, logoutEverywhere, revokeSession } from "../../server/sessions/sessions.ts";
import { protectedProcedure, publicProcedure } from "../../server/trpc.ts";
import {
  AuthResultOutput,
  LoginInput,
  LoginOutput,
  MeOutput,
  RefreshInput,
  RegisterInput,
  RevokedOutput,
  RevokeSessionInput,
  SessionOutput,
  SuccessOutput,
  VerifyMfaInput,
} from "./schema.ts";
import { succeed } from "../success.ts";

export const credentialProcedures = {
  register: publicProcedure
    .meta({ summary: "Create an account and sign in", errors: ["WEAK_PASSWORD", "EMAIL_TAKEN", "OVERLOADED"] })
    .input(RegisterInput)
    .output(AuthResultOutput)
    .mutation(({ ctx, input }) => register(ctx.services, input, ctx.meta, ctx.requestId)),

  login: publicProcedure
    .meta({
      summary: "Sign in with email and password; answers a second-factor challenge when the user has one",
      errors: ["INVALID_CREDENTIALS", "OVERLOADED"],
    })
    .input(LoginInput)
    .output(LoginOutput)
    .mutation(({ ctx, input }) => login(ctx.services, input, ctx.meta)),

  verifyMfa: publicProcedure
    .meta({ summary: "Complete a sign-in with a TOTP or recovery code", errors: ["MFA_TOKEN_INVALID", "MFA_CODE_INVALID"] })
    .input(VerifyMfaInput)
    .output(AuthResultOutput)
    .mutation(({ ctx, input }) => verifyMfa(ctx.services, input, ctx.meta)),

  refresh: publicProcedure
    .meta({ summary: "Exchange a refresh token for a new token pair", errors: ["REFRESH_TOKEN_INVALID", "REFRESH_TOKEN_REUSED"] })
    .input(RefreshInput)
    .output(AuthResultOutput)
    .mutation(({ ctx, input }) => refreshSession(ctx.services, input.refreshToken, ctx.meta)),

  logout: protectedProcedure
    .meta({ summary: "Revoke the current session" })
    .output(SuccessOutput)
    .mutation(succeed(({ ctx }) => revokeSession(ctx.services, ctx.user.id, ctx.session.id, "logout", ctx.meta))),

  logoutAll: protectedProcedure
    .meta({ summary: "Revoke every session of the user, this one included" })
    .output(RevokedOutput)
    .mutation(async ({ ctx }) => ({ revoked: await logoutEverywhere(ctx.services, ctx.user.id, ctx.meta) })),

  me: protectedProcedure
    .meta({ summary: "The signed-in user, its roles and permissions" })
    .output(MeOutput)
    .query(({ ctx }) => ({ ...ctx.user, permissions: ctx.permissions, impersonatedBy: ctx.session.impersonator })),

  sessions: protectedProcedure
    .meta({ summary: "The user's live sessions, newest first" })
    .output(SessionOutput.array())
    .query(({ ctx }) => listSessions(ctx.services, ctx.user.id, ctx.session.id)),

  revokeSession: protectedProcedure
    .meta({ summary: "Revoke one of the user's sessions", errors: ["NOT_FOUND"] })
    .input(RevokeSessionInput)
    .output(SuccessOutput)
    .mutation(succeed(({ ctx, input }) => revokeSession(ctx.services, ctx.user.id, input.sessionId, "session_revoked", ctx.meta))),
};
