/**
 * REST bridge metadata (trpc-to-openapi, served under `/api`): where each
 * procedure of docs/API.md lives, whether it needs the bearer token, and
 * which appCodes each HTTP status can carry there, so that `/openapi.json`
 * documents the errors a client will really see.
 */
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { appError, type AppCode } from "../server/errors.ts";
import type { ProcedureMeta } from "../server/procedure-meta.ts";

/** What the protected middleware answers before any resolver runs. */
const BEARER_ERRORS: AppCode[] = ["TOKEN_MISSING", "TOKEN_INVALID", "TOKEN_EXPIRED", "SESSION_REVOKED"];
/** What any procedure may answer. */
const COMMON_ERRORS: AppCode[] = ["DB_UNAVAILABLE", "INTERNAL"];

export interface RestRoute {
  /** `/auth/login` for `auth.login`: the procedure path with dots as slashes. */
  path: `/${string}`;
  summary: string;
  /** Needs `Authorization: Bearer <accessToken>`. */
  bearer: boolean;
  /** The procedure's own appCodes (the bearer, rate-limit and common ones are added). */
  errors?: AppCode[];
}

function describeErrors(codes: AppCode[]): Record<number, string> {
  const byStatus = new Map<number, AppCode[]>();
  for (const code of new Set(codes)) {
    const status = getHTTPStatusCodeFromError(appError(code));
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([status, list]) => [status, list.join(", ")]));
}

function meta(method: "GET" | "POST", route: RestRoute): ProcedureMeta {
  const errors = [
    ...(route.errors ?? []),
    ...(route.bearer ? BEARER_ERRORS : []),
    // Public mutations count against AUTH_RATE_LIMIT_PER_MINUTE.
    ...(method === "POST" && !route.bearer ? (["RATE_LIMITED"] as const) : []),
    ...COMMON_ERRORS,
  ];
  return {
    openapi: {
      method,
      path: route.path,
      protect: route.bearer,
      tags: [route.path.split("/")[1]!],
      summary: route.summary,
      errorResponses: describeErrors(errors),
    },
  };
}

/** A query, served as `GET /api<path>`. */
export const restQuery = (route: RestRoute): ProcedureMeta => meta("GET", route);
/** A mutation, served as `POST /api<path>` with a JSON body. */
export const restMutation = (route: RestRoute): ProcedureMeta => meta("POST", route);
