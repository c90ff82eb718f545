/**
 * `GET /openapi.json`: the REST bridge (server/http/rest.ts) described by
 * trpc-to-openapi's generator.
 * Procedures declare only a summary and their own appCodes (server/procedure-meta.ts);
 * method, path, bearer and the full error list of each operation are derived
 * here, from the procedure's kind, path and builder.
 */
import { readFileSync } from "node:fs";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { generateOpenApiDocument, type OpenApiMeta, type OpenAPIObject } from "trpc-to-openapi";
import * as z from "zod";
import { appRouter } from "../../routers/_app.ts";
import { appError, type AppCode } from "../errors.ts";
import { projectPath } from "../paths.ts";
import { restRouteOf, type ProcedureMeta } from "../procedure-meta.ts";
import { requiresBearer } from "../trpc.ts";
import { webhookComponents, webhookOperations } from "../webhooks/openapi.ts";

/** Where the bridge lives; operation paths in the document are relative to it. */
export const REST_BASE = "/api";
const BEARER_SCHEME = "bearerAuth";

/** What the protected middleware answers before any resolver runs. */
const BEARER_ERRORS: AppCode[] = ["TOKEN_MISSING", "TOKEN_INVALID", "TOKEN_EXPIRED", "SESSION_REVOKED"];
/** What any procedure may answer. */
const COMMON_ERRORS: AppCode[] = ["DB_UNAVAILABLE", "INTERNAL"];

type ProcedureDef = { type: string; meta?: ProcedureMeta; inputs: readonly unknown[]; middlewares: readonly unknown[] };
type Procedure = { _def: ProcedureDef };
/** The operation trpc-to-openapi reads from `meta.openapi`. */
export type RestOperation = OpenApiMeta["openapi"] & { method: "GET" | "POST"; path: `/${string}`; errorResponses: Record<number, string> };

/** HTTP status → the appCodes it carries, as text. */
function describeErrors(codes: readonly AppCode[]): Record<number, string> {
  const byStatus = new Map<number, AppCode[]>();
  for (const code of new Set(codes)) {
    const status = getHTTPStatusCodeFromError(appError(code));
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([status, list]) => [status, list.join(", ")]));
}

/** A procedure's REST operation, or null for a subscription. */
export function restOperationOf(path: string, procedure: Procedure): RestOperation | null {
  const route = restRouteOf(path, procedure._def.type);
  if (!route) return null;
  const bearer = requiresBearer(procedure);
  const permission = procedure._def.meta?.permission;
  const errors = [
    // Any input is validated; a procedure without one takes none.
    ...(procedure._def.inputs.length > 0 ? (["VALIDATION_FAILED"] as const) : []),
    ...(procedure._def.meta?.errors ?? []),
    // adminProcedure(permission) refuses callers without it.
    ...(permission ? (["FORBIDDEN"] as const) : []),
    ...(bearer ? BEARER_ERRORS : []),
    // Public mutations count against AUTH_RATE_LIMIT_PER_MINUTE.
    ...(route.method === "POST" && !bearer ? (["RATE_LIMITED"] as const) : []),
    ...COMMON_ERRORS,
  ];
  return {
    ...route,
    protect: bearer,
    tags: [route.path.split("/")[1]!],
    summary: procedure._def.meta?.summary,
    ...(permission ? { description: `Requires the permission \`${permission}\` (a role that grants it: see docs/guide.md, "Roles, admin and audit").` } : {}),
    errorResponses: describeErrors(errors),
  };
}

/**
 * The router as trpc-to-openapi's document generator reads it: each query
 * and mutation with its derived `meta.openapi`.
 */
function openApiRouter(): typeof appRouter {
  // `_def.procedures` is flat at run time ("auth.login" → procedure), whatever its type says.
  const procedures = appRouter._def.procedures as unknown as Record<string, Procedure>;
  const described = Object.fromEntries(
    Object.entries(procedures).flatMap(([path, procedure]) => {
      const openapi = restOperationOf(path, procedure);
      return openapi ? [[path, { ...procedure, _def: { ...procedure._def, meta: { ...procedure._def.meta, openapi } } }]] : [];
    }),
  );
  return { ...appRouter, _def: { ...appRouter._def, procedures: described } } as unknown as typeof appRouter;
}

const { version } = JSON.parse(readFileSync(projectPath("package.json"), "utf8")) as { version: string };

/** The body of every REST error (docs/API.md). */
const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ description: "The stable appCode (docs/API.md), e.g. INVALID_CREDENTIALS" }),
      message: z.string(),
      fieldErrors: z
        .record(z.string(), z.array(z.string()))
        .optional()
        .meta({ description: "VALIDATION_FAILED only: the problems of each input field" }),
    }),
  })
  .meta({ description: "An error: the HTTP status is that of the appCode" });

export type OpenApiDocument = OpenAPIObject & { paths: NonNullable<OpenAPIObject["paths"]> };
type Responses = Record<string, { description: string; headers?: unknown; content?: unknown }>;

/**
 * The OpenAPI 3.1 document of the bridge. trpc-to-openapi describes errors in
 * its own shape; ours replace them, with `Retry-After` where limits answer and
 * the transport refusals (413, 415) of request bodies.
 */
export function createOpenApiDocument(): OpenApiDocument {
  const router = openApiRouter();
  const document = generateOpenApiDocument(router, {
    title: "Gatehouse",
    version,
    description:
      "Gatehouse's procedures as plain JSON over HTTP. Protected operations take `Authorization: Bearer <accessToken>` " +
      "(from register, login or refresh). Errors answer with the status of their appCode and `{ error: { code, message } }`.",
    baseUrl: REST_BASE,
    securitySchemes: { [BEARER_SCHEME]: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    defs: { Error: ErrorBody, ...webhookComponents() },
  }) as OpenApiDocument;
  document.webhooks = webhookOperations() as OpenApiDocument["webhooks"];
  const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };
  const retryAfter = { "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer" } } };
  const procedures = router._def.procedures as unknown as Record<string, { _def: { meta: ProcedureMeta & { openapi: RestOperation } } }>;
  for (const procedure of Object.values(procedures)) {
    const meta = procedure._def.meta.openapi;
    const method = meta.method.toLowerCase();
    const operation = (document.paths[meta.path] as Record<string, { responses: Responses; "x-permission"?: string }>)[method]!;
    // The permission the operation needs, machine-readable beside the text of its description.
    const { permission } = procedure._def.meta;
    if (permission) operation["x-permission"] = permission;
    // Fresh objects: trpc-to-openapi shares one response object (and so one description) per tRPC code.
    const errors: Record<string, string> = {
      ...Object.fromEntries(Object.entries(meta.errorResponses)),
      ...(method === "post" ? { 413: "PAYLOAD_TOO_LARGE (a body over 100 KB)", 415: "UNSUPPORTED_MEDIA_TYPE (a body that is not JSON)" } : {}),
    };
    operation.responses = {
      "200": operation.responses["200"]!,
      ...Object.fromEntries(
        Object.entries(errors).map(([status, description]) => [
          status,
          { description, content: errorContent, ...(status === "429" || status === "503" ? { headers: retryAfter } : {}) },
        ]),
      ),
    };
  }
  const schemas = document.components?.schemas ?? {};
  for (const name of Object.keys(schemas)) if (name.startsWith("error.")) delete schemas[name];
  return document;
}
