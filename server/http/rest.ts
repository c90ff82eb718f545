/**
 * The REST bridge: every query and mutation as `GET|POST /api/<router>/<procedure>`
 * with plain JSON bodies, the same context, statuses and `Retry-After` as
 * `/trpc`, and errors as `{ "error": { "code": appCode, "message": ..., "fieldErrors"?: ... } }`
 * (docs/API.md). `GET /openapi.json` describes it (server/http/openapi.ts).
 *
 * A call goes through `callTRPCProcedure`, as tRPC's own adapters do: the
 * whole middleware chain, then one JSON answer written here.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { callTRPCProcedure, getTRPCErrorFromUnknown } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import * as z from "zod";
import { appRouter } from "../../routers/_app.ts";
import type { Context } from "../context.ts";
import { validationMessage } from "../errors.ts";
import type { Services } from "../services.ts";
import { describeError } from "../trpc.ts";
import { createOpenApiDocument, REST_BASE, restOperationOf } from "./openapi.ts";
import { onProcedureError, requestContexts, retryAfterMeta } from "./request-context.ts";
import type { Route } from "./route.ts";
import {
  allowMethods,
  API_HEADERS,
  isJsonContentType,
  readBody,
  refuseDeclaredOversize,
  refuseOversize,
  sendContent,
  sendError,
  sendJson,
} from "./wire.ts";

type Procedure = { _def: { type: "query" | "mutation"; inputs: z.ZodType[]; middlewares: readonly unknown[] } };

/** Operation path (`/auth/login`) → method → procedure path (`auth.login`), exactly as documented. */
function operationTable(): Map<string, Map<string, string>> {
  const table = new Map<string, Map<string, string>>();
  // `_def.procedures` is flat at run time ("auth.login" → procedure), whatever its type says.
  for (const [path, procedure] of Object.entries(appRouter._def.procedures as unknown as Record<string, Procedure>)) {
    const operation = restOperationOf(path, procedure);
    if (!operation) continue;
    const methods = table.get(operation.path) ?? new Map<string, string>();
    table.set(operation.path, methods.set(operation.method, path));
  }
  return table;
}

/**
 * A query's input from its query string: `?limit=10&tag=a&tag=b`. Values are
 * strings; a top-level field the schema declares a number or boolean is
 * converted, and one it declares an array collects the repeated values.
 */
export function queryInput(schema: z.ZodType | undefined, url: string): Record<string, unknown> | undefined {
  if (!schema) return undefined;
  const properties = (z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as { properties?: Record<string, { type?: string }> })
    .properties ?? {};
  const params = new URL(url, "http://localhost").searchParams;
  const input: Record<string, unknown> = {};
  for (const key of new Set(params.keys())) {
    const type = properties[key]?.type;
    const value = params.get(key)!;
    input[key] =
      type === "array" ? params.getAll(key)
      : type === "number" || type === "integer" ? Number(value)
      : type === "boolean" ? value === "true" ? true : value === "false" ? false : value
      : value;
  }
  return input;
}

/** A POST's JSON object body, or undefined once it has answered the refusal (413, 415, 400). */
async function bodyInput(req: IncomingMessage, res: ServerResponse): Promise<object | undefined> {
  if (refuseDeclaredOversize(req, res, sendError)) return undefined;
  const body = await readBody(req);
  if (body === null) {
    refuseOversize(res, sendError);
    return undefined;
  }
  // A bodiless POST (`curl -X POST .../api/auth/logout`) is an empty input, not a form post.
  if (body.length === 0 && req.headers["content-type"] === undefined) return {};
  if (!isJsonContentType(req.headers["content-type"])) {
    sendError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
    return undefined;
  }
  let input: unknown = {};
  if (body.length > 0) {
    try {
      input = JSON.parse(body.toString("utf8"));
    } catch {
      sendError(res, 400, "VALIDATION_FAILED", "Request body is not valid JSON");
      return undefined;
    }
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    sendError(res, 400, "VALIDATION_FAILED", "Request body must be a JSON object");
    return undefined;
  }
  return input;
}

/** The router is fixed for the process: one document serves every server built from it. */
let documentJson: string | undefined;

/** Builds `GET /openapi.json` and the bridge under `/api`. */
export function createRestRoutes(services: Services): Route[] {
  documentJson ??= JSON.stringify(createOpenApiDocument());
  const operations = operationTable();
  const procedures = appRouter._def.procedures as unknown as Record<string, Procedure>;
  const contextOf = requestContexts(services);

  /** Runs one procedure and answers its result, or its error in the contract's body. */
  async function call(req: IncomingMessage, res: ServerResponse, path: string, input: unknown): Promise<void> {
    const procedure = procedures[path]!;
    let ctx: Context | undefined;
    try {
      ctx = contextOf(req);
      const data = await callTRPCProcedure({
        router: appRouter,
        path,
        getRawInput: async () => input,
        ctx,
        type: procedure._def.type,
        signal: undefined,
        batchIndex: 0,
      });
      sendJson(res, 200, data);
    } catch (cause) {
      const error = getTRPCErrorFromUnknown(cause);
      onProcedureError(services, error, path, req, ctx);
      for (const [name, value] of Object.entries(retryAfterMeta([error]).headers ?? {})) res.setHeader(name, value);
      const { appCode, message, fieldErrors } = describeError(error, services.config.development);
      const body =
        appCode === "VALIDATION_FAILED" && fieldErrors && Object.keys(fieldErrors).length > 0
          ? { code: appCode, message: validationMessage(fieldErrors), fieldErrors }
          : { code: appCode, message };
      sendJson(res, getHTTPStatusCodeFromError(error), { error: body });
    }
  }

  const openApiRoute: Route = (req, res, path) => {
    if (path !== "/openapi.json") return false;
    if (!allowMethods(req, res, ["GET", "HEAD"])) return true;
    sendContent(req, res, { "content-type": "application/json; charset=utf-8", "x-content-type-options": "nosniff" }, documentJson!);
    return true;
  };

  const bridgeRoute: Route = async (req, res, path) => {
    if (path !== REST_BASE && !path.startsWith(`${REST_BASE}/`)) return false;
    for (const [name, value] of Object.entries(API_HEADERS)) res.setHeader(name, value);
    const methods = operations.get(path.slice(REST_BASE.length));
    if (!methods) {
      sendError(res, 404, "NOT_FOUND");
      return true;
    }
    if (!allowMethods(req, res, [...methods.keys()])) return true;
    const procedurePath = methods.get(req.method!)!;
    const input = req.method === "POST" ? await bodyInput(req, res) : queryInput(procedures[procedurePath]!._def.inputs[0], req.url ?? "");
    if (req.method === "POST" && input === undefined) return true;
    await call(req, res, procedurePath, input);
    return true;
  };

  return [openApiRoute, bridgeRoute];
}
