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
import type { IncomingMessage, ServerResponse } from "node:http";
import { createOpenApiNodeHttpHandler } from "trpc-to-openapi";
import { appRouter } from "../../routers/_app.ts";
import { AppError, messageOf, validationMessage, type AppCode } from "../errors.ts";
import type { Services } from "../services.ts";
import { onProcedureError, requestContexts, retryAfterMeta } from "./request-context.ts";
import { createOpenApiDocument, openApiRouter, REST_BASE, type OpenApiDocument } from "./openapi.ts";
import { sendJson } from "./respond.ts";
import type { Route } from "./route.ts";
import { API_HEADERS, MAX_BODY_BYTES } from "./trpc-handler.ts";

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
let openApiDocument: OpenApiDocument | undefined;

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
    router: { ...openApiRouter(), createCaller: bridgeCaller },
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
