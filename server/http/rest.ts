/**
 * The REST bridge (trpc-to-openapi): every procedure of docs/API.md as
 * `GET|POST /api/<router>/<procedure>` with plain JSON bodies, the same context,
 * statuses and `Retry-After` as `/trpc`, and errors as
 * `{ "error": { "code": appCode, "message": ..., "fieldErrors"?: ... } }`
 * (docs/API.md). `GET /openapi.json` describes it.
 *
 * trpc-to-openapi routes and calls the procedures; this module does what it
 * leaves to the host: the body limit and JSON parsing (its own parser only
 * reads a bare `application/json` content type), 404 and 405 for paths and
 * methods it does not know, and the error body of the contract.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createOpenApiNodeHttpHandler, generateOpenApiDocument, type OpenAPIObject } from "trpc-to-openapi";
import * as z from "zod";
import { appRouter } from "../../routers/_app.ts";
import { AppError, messageOf, validationMessage, type AppCode } from "../errors.ts";
import { projectPath } from "../paths.ts";
import type { ProcedureMeta } from "../procedure-meta.ts";
import type { Services } from "../services.ts";
import { onProcedureError, requestContexts, retryAfterMeta } from "./request-context.ts";
import { sendJson } from "./respond.ts";
import type { Route } from "./route.ts";
import { API_HEADERS, MAX_BODY_BYTES } from "./trpc-handler.ts";

/** Where the bridge lives; operation paths in the document are relative to it. */
export const REST_BASE = "/api";
const BEARER_SCHEME = "bearerAuth";

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

type Document = OpenAPIObject & { paths: NonNullable<OpenAPIObject["paths"]> };
type Responses = Record<string, { description: string; headers?: unknown; content?: unknown }>;

/**
 * The OpenAPI 3.1 document of the bridge. trpc-to-openapi describes errors in
 * its own shape; ours replace them, with `Retry-After` where limits answer and
 * the transport refusals (413, 415) of request bodies.
 */
export function createOpenApiDocument(): Document {
  const document = generateOpenApiDocument(appRouter, {
    title: "Gatehouse",
    version,
    description:
      "Gatehouse's procedures as plain JSON over HTTP. Protected operations take `Authorization: Bearer <accessToken>` " +
      "(from register, login or refresh). Errors answer with the status of their appCode and `{ error: { code, message } }`.",
    baseUrl: REST_BASE,
    securitySchemes: { [BEARER_SCHEME]: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    defs: { Error: ErrorBody },
  }) as Document;
  const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };
  const retryAfter = { "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer" } } };
  // `_def.procedures` is flat at run time ("auth.login" → procedure), whatever its type says.
  const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { meta?: ProcedureMeta } }>;
  for (const procedure of Object.values(procedures)) {
    const meta = procedure._def.meta?.openapi;
    if (!meta) continue;
    const method = meta.method.toLowerCase();
    const operation = (document.paths[meta.path] as Record<string, { responses: Responses }>)[method]!;
    // Fresh objects: trpc-to-openapi shares one response object (and so one description) per tRPC code.
    const errors: Record<string, string> = {
      ...Object.fromEntries(Object.entries(meta.errorResponses ?? {})),
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

/**
 * What trpc-to-openapi writes, kept so that errors can be rewritten before
 * anything reaches the client. It only uses `statusCode`, `setHeader` and
 * `end`, and watches the real response for the client going away.
 */
class RecordedResponse {
  statusCode = 200;
  readonly headers = new Map<string, string | readonly string[]>();
  body = "";

  constructor(private readonly real: ServerResponse) {}

  setHeader(name: string, value: string | number | readonly string[]): this {
    this.headers.set(name.toLowerCase(), typeof value === "number" ? String(value) : value);
    return this;
  }

  end(body?: string): this {
    this.body = body ?? "";
    return this;
  }

  once(event: string, listener: (...args: unknown[]) => void): this {
    this.real.once(event, listener);
    return this;
  }

  off(event: string, listener: (...args: unknown[]) => void): this {
    this.real.off(event, listener);
    return this;
  }

  get writableEnded(): boolean {
    return this.real.writableEnded;
  }
}

interface ErrorShape {
  message?: string;
  data?: { appCode?: AppCode; fieldErrors?: Record<string, string[]> };
}

function sendError(res: ServerResponse, status: number, appCode: AppCode, message = messageOf(appCode)): void {
  sendJson(res, status, { error: { code: appCode, message } });
}

/** The contract's error body from the tRPC error shape trpc-to-openapi answers with. */
function restError(shape: ErrorShape): { error: { code: AppCode; message: string; fieldErrors?: Record<string, string[]> } } {
  const code = shape.data?.appCode ?? "INTERNAL";
  const fieldErrors = shape.data?.fieldErrors;
  if (code === "VALIDATION_FAILED" && fieldErrors && Object.keys(fieldErrors).length > 0) {
    // trpc-to-openapi replaces the message of input errors with its own words.
    return { error: { code, message: validationMessage(fieldErrors), fieldErrors } };
  }
  return { error: { code, message: shape.message ?? messageOf(code) } };
}

function isJsonContentType(header: string | undefined): boolean {
  return header?.split(";", 1)[0]?.trim().toLowerCase() === "application/json";
}

/** The request body, or null once it has grown past the limit. */
async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The caller trpc-to-openapi runs procedures with. It tells a TRPCError from
 * any other failure by `error.name === "TRPCError"` (not `instanceof`), and an
 * AppError names itself "AppError" for the logs: without the relabelling
 * every EMAIL_TAKEN or TOKEN_EXPIRED would be answered as INTERNAL.
 */
const bridgeCaller: typeof appRouter.createCaller = (ctx, options) =>
  appRouter.createCaller(ctx, {
    ...options,
    onError(opts) {
      if (opts.error instanceof AppError) opts.error.name = "TRPCError";
      options?.onError?.(opts);
    },
  });

/** The router is fixed for the process: one document serves every server built from it. */
let openApiDocument: Document | undefined;

/** Builds `GET /openapi.json` and the bridge under `/api`. */
export function createRestRoutes(services: Services): Route[] {
  const document = (openApiDocument ??= createOpenApiDocument());
  const documentJson = JSON.stringify(document);
  /** Path → methods, exactly as documented (trpc-to-openapi itself matches paths case-insensitively). */
  const methodsByPath = new Map(
    Object.entries(document.paths).map(([path, item]) => [path, Object.keys(item as object).map((m) => m.toUpperCase())]),
  );
  // The Node handler, not trpc-to-openapi's "standalone" one: that wraps the
  // request in a Fetch Request, losing the socket (client IP) and the body read here.
  const contextOf = requestContexts(services);
  const handler = createOpenApiNodeHttpHandler<typeof appRouter, IncomingMessage, ServerResponse>({
    router: { ...appRouter, createCaller: bridgeCaller },
    maxBodySize: MAX_BODY_BYTES,
    createContext: ({ req }) => contextOf(req),
    responseMeta: ({ errors }) => retryAfterMeta(errors),
    onError: ({ error, path, req, ctx }) => onProcedureError(services, error, path, req, ctx),
  });

  const openApiRoute: Route = (req, res, path) => {
    if (path !== "/openapi.json") return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      sendError(res, 405, "METHOD_NOT_SUPPORTED");
      return true;
    }
    res.writeHead(200, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(documentJson),
      "x-content-type-options": "nosniff",
    });
    res.end(req.method === "HEAD" ? undefined : documentJson);
    return true;
  };

  const bridgeRoute: Route = async (req, res, path) => {
    if (path !== REST_BASE && !path.startsWith(`${REST_BASE}/`)) return false;
    for (const [name, value] of Object.entries(API_HEADERS)) res.setHeader(name, value);
    const operationPath = path.slice(REST_BASE.length);
    const methods = methodsByPath.get(operationPath);
    if (!methods) {
      sendError(res, 404, "NOT_FOUND");
      return true;
    }
    if (!methods.includes(req.method ?? "")) {
      res.setHeader("allow", methods.join(", "));
      sendError(res, 405, "METHOD_NOT_SUPPORTED");
      return true;
    }
    if (req.method === "POST") {
      if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) {
        // Refuse at once rather than reading a large body only to drop it.
        res.setHeader("connection", "close");
        sendError(res, 413, "PAYLOAD_TOO_LARGE");
        return true;
      }
      const body = await readBody(req);
      if (body === null) {
        res.setHeader("connection", "close");
        sendError(res, 413, "PAYLOAD_TOO_LARGE");
        return true;
      }
      if (body.length === 0 && req.headers["content-type"] === undefined) {
        // A bodiless POST (`curl -X POST .../api/auth/logout`) is an empty input, not a form post.
        req.headers["content-type"] = "application/json";
      } else if (!isJsonContentType(req.headers["content-type"])) {
        sendError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
        return true;
      }
      let input: unknown = {};
      if (body.length > 0) {
        try {
          input = JSON.parse(body.toString("utf8"));
        } catch {
          sendError(res, 400, "VALIDATION_FAILED", "Request body is not valid JSON");
          return true;
        }
      }
      if (typeof input !== "object" || input === null || Array.isArray(input)) {
        sendError(res, 400, "VALIDATION_FAILED", "Request body must be a JSON object");
        return true;
      }
      // trpc-to-openapi takes a body already on the request as the parsed input.
      (req as IncomingMessage & { body?: unknown }).body = input;
    }

    // Operations are documented relative to REST_BASE; hand the handler the path below it (as a mount would).
    req.url = req.url!.slice(REST_BASE.length);
    const recorded = new RecordedResponse(res);
    await handler(req, recorded as unknown as ServerResponse);
    for (const [name, value] of recorded.headers) if (name !== "content-type") res.setHeader(name, value);
    if (recorded.statusCode >= 400) {
      sendJson(res, recorded.statusCode, restError(JSON.parse(recorded.body || "{}") as ErrorShape));
      return true;
    }
    res.writeHead(recorded.statusCode, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(recorded.body),
    });
    res.end(recorded.body);
    return true;
  };

  return [openApiRoute, bridgeRoute];
}
