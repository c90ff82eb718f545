/** Inputs and outputs of the admin procedures (docs/guide.md, "Roles, admin and audit"). */
import * as z from "zod";
import { ROLE_NAMES } from "../../server/admin/permissions.ts";
import { AUTH_EVENT_TYPES } from "../../server/audit/events.ts";
import { AuthResultOutput, SessionOutput, UserOutput } from "../auth/schema.ts";

const UserId = z.uuid("Invalid user id");
const Limit = z.number().int().min(1, "Limit must be at least 1").max(100, "Limit must be at most 100").default(50);

/** Why an admin acts: recorded in the audit trail. */
const Reason = z
  .string()
  .trim()
  .min(1, "Reason is required")
  .max(500, "Reason must be at most 500 characters")
  .refine((reason) => !/\p{Cc}/u.test(reason), "Reason must not contain control characters");

export const ListUsersInput = z.object({
  /** Email prefix, any case. */
  query: z
    .string()
    .trim()
    .min(1, "Query must not be empty")
    .max(254, "Query must be at most 254 characters")
    .regex(/^[\x20-\x7e]*$/, "Query must be printable ASCII, as emails are")
    .optional(),
  role: z.enum(ROLE_NAMES).optional(),
  status: z.enum(["active", "disabled"]).optional(),
  cursor: z.string().min(1).max(400, "Cursor is too long").optional(),
  limit: Limit,
});

export const UserIdInput = z.object({ userId: UserId });
export const UserActionInput = z.object({ userId: UserId, reason: Reason });
export const SetRolesInput = z.object({
  userId: UserId,
  roles: z.array(z.enum(ROLE_NAMES)).max(20, "Too many roles"),
});

export const AuditInput = z.object({
  userId: UserId.optional(),
  actorId: UserId.optional(),
  type: z.enum(AUTH_EVENT_TYPES).optional(),
  // A Date through tRPC (superjson); an ISO 8601 time through the REST bridge's query string.
  before: z.coerce.date<Date>().optional(),
  limit: Limit,
});

export const AdminUserOutput = UserOutput.extend({
  disabledAt: z.date().nullable(),
  disabledReason: z.string().nullable(),
  lastLoginAt: z.date().nullable(),
});

export const UserPageOutput = z.object({ items: AdminUserOutput.array(), nextCursor: z.string().nullable() });

export const AuditEntryOutput = z.object({
  id: z.string(),
  actorId: z.string().nullable(),
  targetId: z.string().nullable(),
  subject: z.string().nullable(),
  type: z.enum(AUTH_EVENT_TYPES),
  at: z.date(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  reason: z.string().nullable(),
  detail: z.string().nullable(),
});

export const UserDetailOutput = AdminUserOutput.extend({ sessions: SessionOutput.array(), events: AuditEntryOutput.array() });

/** An impersonation session: no usable refresh token (the string is empty). */
export const ImpersonationOutput = AuthResultOutput;
