/**
 * The `admin` router: each procedure names its permission with
 * `adminProcedure(permission)` and calls one function of server/admin/.
 */
import { disableUser, deleteUser, enableUser, revokeUserSessions } from "../../server/admin/account-control.ts";
import { queryAudit } from "../../server/admin/audit-trail.ts";
import { impersonate } from "../../server/admin/impersonation.ts";
import { changeRoles } from "../../server/admin/roles.ts";
import { getUserDetail } from "../../server/admin/user-detail.ts";
import { listUsers } from "../../server/admin/user-list.ts";
import { adminProcedure, router } from "../../server/trpc.ts";
import { RevokedOutput, SuccessOutput } from "../auth/schema.ts";
import { actor } from "./actor.ts";
import {
  AdminUserOutput,
  AuditEntryOutput,
  AuditInput,
  ImpersonationOutput,
  ListUsersInput,
  SetRolesInput,
  UserActionInput,
  UserDetailOutput,
  UserIdInput,
  UserPageOutput,
} from "./schema.ts";
import { webhookProcedures } from "./webhooks.ts";
import { succeed } from "../success.ts";


export const adminRouter = router({
  listUsers: adminProcedure("users:read")
    .meta({ summary: "Users a page at a time, newest first; with a query, email-prefix matches in email order", errors: ["VALIDATION_FAILED"] })
    .input(ListUsersInput)
    .output(UserPageOutput)
    .query(({ ctx, input }) => listUsers(ctx.services, input)),

  getUser: adminProcedure("users:read")
    .meta({ summary: "One user with its live sessions and latest audit entries", errors: ["VALIDATION_FAILED", "NOT_FOUND"] })
    .input(UserIdInput)
    .output(UserDetailOutput)
    .query(({ ctx, input }) => getUserDetail(ctx.services, input.userId)),

  setRoles: adminProcedure("users:write")
    .meta({ summary: "Replace a user's roles; applies on the user's next request", errors: ["VALIDATION_FAILED", "NOT_FOUND", "LAST_ADMIN"] })
    .input(SetRolesInput)
    .output(AdminUserOutput)
    .mutation(({ ctx, input }) => changeRoles(ctx.services, input.userId, () => input.roles, actor(ctx))),

  disableUser: adminProcedure("users:write")
    .meta({ summary: "Disable an account and revoke every session at once", errors: ["VALIDATION_FAILED", "NOT_FOUND", "LAST_ADMIN"] })
    .input(UserActionInput)
    .output(AdminUserOutput)
    .mutation(({ ctx, input }) => disableUser(ctx.services, actor(ctx), input.userId, input.reason)),

  enableUser: adminProcedure("users:write")
    .meta({ summary: "Enable a disabled account", errors: ["VALIDATION_FAILED", "NOT_FOUND"] })
    .input(UserActionInput)
    .output(AdminUserOutput)
    .mutation(({ ctx, input }) => enableUser(ctx.services, actor(ctx), input.userId, input.reason)),

  revokeSessions: adminProcedure("users:write")
    .meta({ summary: "Revoke every session of a user", errors: ["VALIDATION_FAILED", "NOT_FOUND"] })
    .input(UserIdInput)
    .output(RevokedOutput)
    .mutation(async ({ ctx, input }) => ({ revoked: await revokeUserSessions(ctx.services, actor(ctx), input.userId) })),

  deleteUser: adminProcedure("users:write")
    .meta({ summary: "Delete a user; its audit entries stay, pseudonymised", errors: ["VALIDATION_FAILED", "NOT_FOUND", "LAST_ADMIN"] })
    .input(UserActionInput)
    .output(SuccessOutput)
    .mutation(succeed(({ ctx, input }) => deleteUser(ctx.services, actor(ctx), input.userId, input.reason))),

  impersonate: adminProcedure("users:impersonate")
    .meta({
      summary: "A 15-minute session as a user, without a refresh token; every call in it is audited",
      errors: ["VALIDATION_FAILED", "NOT_FOUND", "ACCOUNT_DISABLED"],
    })
    .input(UserActionInput)
    .output(ImpersonationOutput)
    .mutation(({ ctx, input }) => impersonate(ctx.services, actor(ctx), input.userId, input.reason)),

  audit: adminProcedure("audit:read")
    .meta({ summary: "The audit trail, newest first, filtered by user, actor, type and time", errors: ["VALIDATION_FAILED"] })
    .input(AuditInput)
    .output(AuditEntryOutput.array())
    .query(({ ctx, input }) => queryAudit(ctx.services, input)),

  ...webhookProcedures,
});
