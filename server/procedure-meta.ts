/**
 * What a procedure declares with `.meta(...)`: a summary and the appCodes its
 * resolver may answer. Everything else about its REST exposure is derived:
 * queries are `GET /api/<router>/<procedure>`, mutations `POST`, subscriptions
 * stay on `/trpc`; whether it needs a bearer token comes from its builder
 * (`requiresBearer` in server/trpc.ts), so the two cannot disagree.
 */
import type { Permission } from "./admin/permissions.ts";
import type { AppCode } from "./errors.ts";

export type ProcedureMeta = {
  /** One line for docs/API.md and `/openapi.json`. */
  summary?: string;
  /** The resolver's own appCodes; VALIDATION_FAILED (with an input), the bearer, rate-limit and common ones are added. */
  errors?: readonly AppCode[];
  /** The permission the caller needs (`adminProcedure(permission)`, server/trpc.ts); shown by /openapi.json and the panel. */
  permission?: Permission;
};

/** Where a procedure is served under `/api`: `auth.login` (a mutation) is `POST /auth/login`. */
export function restRouteOf(path: string, type: string): { method: "GET" | "POST"; path: `/${string}` } | null {
  if (type !== "query" && type !== "mutation") return null;
  return { method: type === "query" ? "GET" : "POST", path: `/${path.replaceAll(".", "/")}` };
}
