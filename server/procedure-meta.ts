/**
 * What a procedure may declare with `.meta(...)`: its operation on the REST
 * bridge (read by trpc-to-openapi, whose `OpenApiMeta` this is a subset of).
 *
 * Declared here rather than taken from trpc-to-openapi because it becomes part
 * of `AppRouter`'s type: frontends that import `gatehouse/client` would
 * otherwise type-check that package's declarations (and its express, koa and
 * next adapters) too.
 */
import type { Permission } from "./admin/permissions.ts";

export type ProcedureMeta = {
  /** The permission the caller needs (`adminProcedure(permission)`, server/trpc.ts). */
  permission?: Permission;
  openapi?: {
    method: "GET" | "POST";
    /** Relative to the bridge's base (`/api`), e.g. `/auth/login`. */
    path: `/${string}`;
    summary: string;
    /** Needs `Authorization: Bearer <accessToken>`. */
    protect: boolean;
    tags: string[];
    /** HTTP status → the appCodes it carries, as text. */
    errorResponses: Record<number, string>;
  };
};
