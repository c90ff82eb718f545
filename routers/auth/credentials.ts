/** Credential and session procedures of `auth.*`: parse, call the domain, shape the output. */
import { login, register } from "../../server/auth/accounts.ts";
import { recordEvent } from "../../server/auth/events.ts";
import { listSessions, refreshSession, revokeAllSessions, revokeSession } from "../../server/auth/sessions.ts";
import { protectedProcedure, publicProcedure } from "../../server/trpc.ts";
import {
  AuthResultOutput,
  LoginInput,
  RefreshInput,
  RegisterInput,
  RevokedOutput,
  RevokeSessionInput,
  SessionOutput,
  SuccessOutput,
  UserOutput,
} from "./schema.ts";

const success = { success: true as const };

export const credentialProcedures = {
  register: publicProcedure
    .input(RegisterInput)
    .output(AuthResultOutput)
    .mutation(({ ctx, input }) => register(ctx.services, input, ctx.meta, ctx.requestId)),

  login: publicProcedure
    .input(LoginInput)
    .output(AuthResultOutput)
    .mutation(({ ctx, input }) => login(ctx.services, input, ctx.meta)),

  refresh: publicProcedure
    .input(RefreshInput)
    .output(AuthResultOutput)
    .mutation(({ ctx, input }) => refreshSession(ctx.services, input.refreshToken, ctx.meta)),

  logout: protectedProcedure.output(SuccessOutput).mutation(async ({ ctx }) => {
    await revokeSession(ctx.services, ctx.user.id, ctx.session.id, "logout", ctx.meta);
    return success;
  }),

  logoutAll: protectedProcedure.output(RevokedOutput).mutation(async ({ ctx }) => {
    const revoked = await revokeAllSessions(ctx.services, ctx.user.id);
    await recordEvent(ctx.services.prisma, ctx.user.id, "logout", ctx.meta, ctx.services.now());
    return { revoked };
  }),

  me: protectedProcedure.output(UserOutput).query(({ ctx }) => ctx.user),

  sessions: protectedProcedure
    .output(SessionOutput.array())
    .query(({ ctx }) => listSessions(ctx.services, ctx.user.id, ctx.session.id)),

  revokeSession: protectedProcedure
    .input(RevokeSessionInput)
    .output(SuccessOutput)
    .mutation(async ({ ctx, input }) => {
      await revokeSession(ctx.services, ctx.user.id, input.sessionId, "session_revoked", ctx.meta);
      return success;
    }),
};
