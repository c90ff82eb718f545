/** Credential and session procedures of `auth.*`: parse, call the domain, shape the output. */
import { login, register } from "../../server/identity/accounts.ts";
import { verifyMfa } from "../../server/mfa/sign-in.ts";
import { refreshSession } from "../../server/sessions/refresh.ts";
import { listSessions, logoutEverywhere, revokeSession } from "../../server/sessions/sessions.ts";
import { protectedProcedure, publicProcedure } from "../../server/trpc.ts";
import { restMutation, restQuery } from "../openapi.ts";
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

const success = { success: true as const };

export const credentialProcedures = {
  register: publicProcedure
    .meta(
      restMutation({
        path: "/auth/register",
        summary: "Create an account and sign in",
        bearer: false,
        errors: ["VALIDATION_FAILED", "WEAK_PASSWORD", "EMAIL_TAKEN", "OVERLOADED"],
      }),
    )
    .input(RegisterInput)
    .output(AuthResultOutput)
    .mutation(({ ctx, input }) => register(ctx.services, input, ctx.meta, ctx.requestId)),

  login: publicProcedure
    .meta(
      restMutation({
        path: "/auth/login",
        summary: "Sign in with email and password; answers a second-factor challenge when the user has one",
        bearer: false,
        errors: ["VALIDATION_FAILED", "INVALID_CREDENTIALS", "OVERLOADED"],
      }),
    )
    .input(LoginInput)
    .output(LoginOutput)
    .mutation(({ ctx, input }) => login(ctx.services, input, ctx.meta)),

  verifyMfa: publicProcedure
    .meta(
      restMutation({
        path: "/auth/verifyMfa",
        summary: "Complete a sign-in with a TOTP or recovery code",
        bearer: false,
        errors: ["VALIDATION_FAILED", "MFA_TOKEN_INVALID", "MFA_CODE_INVALID"],
      }),
    )
    .input(VerifyMfaInput)
    .output(AuthResultOutput)
    .mutation(({ ctx, input }) => verifyMfa(ctx.services, input, ctx.meta)),

  refresh: publicProcedure
    .meta(
      restMutation({
        path: "/auth/refresh",
        summary: "Exchange a refresh token for a new token pair",
        bearer: false,
        errors: ["VALIDATION_FAILED", "REFRESH_TOKEN_INVALID", "REFRESH_TOKEN_REUSED"],
      }),
    )
    .input(RefreshInput)
    .output(AuthResultOutput)
    .mutation(({ ctx, input }) => refreshSession(ctx.services, input.refreshToken, ctx.meta)),

  logout: protectedProcedure
    .meta(restMutation({ path: "/auth/logout", summary: "Revoke the current session", bearer: true }))
    .output(SuccessOutput)
    .mutation(async ({ ctx }) => {
      await revokeSession(ctx.services, ctx.user.id, ctx.session.id, "logout", ctx.meta);
      return success;
    }),

  logoutAll: protectedProcedure
    .meta(
      restMutation({
        path: "/auth/logoutAll",
        summary: "Revoke every session of the user, this one included",
        bearer: true,
      }),
    )
    .output(RevokedOutput)
    .mutation(async ({ ctx }) => ({ revoked: await logoutEverywhere(ctx.services, ctx.user.id, ctx.meta) })),

  me: protectedProcedure
    .meta(restQuery({ path: "/auth/me", summary: "The signed-in user, its roles and permissions", bearer: true }))
    .output(MeOutput)
    .query(({ ctx }) => ({ ...ctx.user, permissions: ctx.permissions, impersonatedBy: ctx.session.impersonator })),

  sessions: protectedProcedure
    .meta(restQuery({ path: "/auth/sessions", summary: "The user's live sessions, newest first", bearer: true }))
    .output(SessionOutput.array())
    .query(({ ctx }) => listSessions(ctx.services, ctx.user.id, ctx.session.id)),

  revokeSession: protectedProcedure
    .meta(
      restMutation({
        path: "/auth/revokeSession",
        summary: "Revoke one of the user's sessions",
        bearer: true,
        errors: ["VALIDATION_FAILED", "NOT_FOUND"],
      }),
    )
    .input(RevokeSessionInput)
    .output(SuccessOutput)
    .mutation(async ({ ctx, input }) => {
      await revokeSession(ctx.services, ctx.user.id, input.sessionId, "session_revoked", ctx.meta);
      return success;
    }),
};
