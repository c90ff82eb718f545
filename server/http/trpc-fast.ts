/**
 * A faster node:http handler for the common tRPC requests, answering exactly
 * what the stock standalone adapter answers, byte for byte.
 *
 * Why: the stock adapter (`@trpc/server/adapters/standalone`) turns every Node
 * request into a Fetch `Request` (with `Headers`, an `AbortController`, a body
 * `ReadableStream`), resolves it into a Fetch `Response`, and pipes that back
 * through a `WritableStream`. On `auth.me` that machinery cost more CPU than
 * the procedure, the JWT check and the database read together (profile in
 * docs/performance.md).
 *
 * What: a plain query (GET) or mutation (POST with a JSON body), single or
 * batched (`?batch=1`), to procedures that exist, is resolved here with the
 * same steps as tRPC's `resolveResponse` (same context, lazy input parsing,
 * procedure call, error shapes, `responseMeta`, `onError`, status, headers in
 * the order `Headers` iterates them, body written as one chunk then ended).
 * Everything else goes to the stock handler untouched and before anything is
 * read: HEAD and other methods, other content types, streaming (`jsonl`)
 * and subscriptions, unknown procedures, mixed batches, oversized batches,
 * malformed paths or URLs, chunked bodies. tests/trpc-adapter.test.ts sends a
 * corpus of requests to both and compares the raw bytes.
 *
 * TRPC_ADAPTER=stock turns this off (server/http/trpc-handler.ts).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AnyTRPCRouter } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import {
  emptyObject,
  getErrorShape,
  getHTTPStatusCode,
  getTRPCErrorFromUnknown,
  isAsyncIterable,
  isObject,
  transformTRPCResponse,
  TRPCError,
  urlPathToProcedurePath,
} from "@trpc/server/unstable-core-do-not-import";
import { isJsonContentType, readBody } from "./wire.ts";

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;
type AnyProcedure = AnyTRPCRouter["_def"]["procedures"][string] & {
  (opts: Record<string, unknown>): Promise<unknown>;
  _def: { type: "query" | "mutation" | "subscription" };
};
type Config = AnyTRPCRouter["_def"]["_config"];

export interface FastHandlerOptions<TContext> {
  router: AnyTRPCRouter;
  /** Same as the stock adapter's, e.g. `/trpc/`. */
  basePath: string;
  maxBatchSize: number;
  maxBodySize: number;
  createContext(opts: { req: IncomingMessage; res: ServerResponse; info: unknown }): TContext | Promise<TContext>;
  responseMeta?(opts: Record<string, unknown> & { errors: TRPCError[] }): { headers?: Record<string, string>; status?: number };
  onError?(opts: { error: TRPCError; path: string | undefined; input: unknown; ctx: TContext | undefined; type: string; req: IncomingMessage }): void;
}

/** The stock adapter's answer when even the error formatter fails: says nothing about the error. */
const FALLBACK_ERROR_SHAPE = {
  code: TRPC_ERROR_CODES_BY_KEY.INTERNAL_SERVER_ERROR,
  message: "Internal server error",
  data: { code: "INTERNAL_SERVER_ERROR", httpStatus: 500 },
};

const METHODS: Record<string, string> = { query: "GET", mutation: "POST" };
const ALLOW: Record<string, string> = { query: "GET", mutation: "POST", subscription: "GET" };

const trimSlashes = (path: string) => {
  path = path.startsWith("/") ? path.slice(1) : path;
  return path.endsWith("/") ? path.slice(0, -1) : path;
};

function isPromise(value: unknown): boolean {
  return (
    (isObject(value) || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function" &&
    typeof (value as { catch?: unknown }).catch === "function"
  );
}

/** tRPC's `isDataStream`: such results need the streaming link. */
function isDataStream(v: unknown): boolean {
  if (!isObject(v)) return false;
  if (isAsyncIterable(v)) return true;
  return Object.values(v).some(isPromise) || Object.values(v).some(isAsyncIterable);
}

/** tRPC's `memo` for inputs: parse once, lazily; foreign errors become BAD_REQUEST. */
function memoInputs(fn: () => Promise<Record<number, unknown>>) {
  const unset = Symbol();
  let value: Record<number, unknown> | typeof unset = unset;
  let promise: Promise<Record<number, unknown>> | null = null;
  return {
    async read() {
      if (value !== unset) return value;
      promise ??= fn().catch((cause: unknown) => {
        if (cause instanceof TRPCError) throw cause;
        throw new TRPCError({ code: "BAD_REQUEST", message: cause instanceof Error ? cause.message : "Invalid input", cause });
      });
      value = await promise;
      promise = null;
      return value;
    },
    result: () => (value !== unset ? value : undefined),
  };
}

/** Response headers with `Headers`' semantics (lower-case names, iterated sorted). */
class HeaderList {
  readonly #map = new Map<string, string>();
  set(name: string, value: string) {
    this.#map.set(name.toLowerCase(), value);
  }
  append(name: string, value: string) {
    const key = name.toLowerCase();
    const old = this.#map.get(key);
    this.#map.set(key, old === undefined ? value : `${old}, ${value}`);
  }
  sorted(): [string, string][] {
    return [...this.#map].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}

/** A request the fast path answers: its URL, whether it is a batch, and the procedures it calls. */
interface FastCall {
  url: URL;
  isBatch: boolean;
  paths: string[];
  calls: AnyProcedure[];
  type: "query" | "mutation";
}

/** The head of a request, all the choice of path reads. */
type RequestHead = Pick<IncomingMessage, "method" | "url" | "headers"> & { socket: object };

/**
 * Whether the fast path answers a request, decided from its head alone (before
 * anything is read): the call it makes, or null for the stock handler.
 */
export function fastCallOf(
  opts: Pick<FastHandlerOptions<unknown>, "router" | "basePath" | "maxBatchSize">,
  req: RequestHead,
): FastCall | null {
  const config = opts.router._def._config as Config;
  const procedures = opts.router._def.procedures as Record<string, AnyProcedure>;
  const { method, headers } = req;
  if (
    (method !== "GET" && method !== "POST") ||
    headers["trpc-accept"] !== undefined ||
    headers.accept?.includes("jsonl") ||
    (method === "GET" ? headers["content-type"] !== undefined && !isJsonContentType(headers["content-type"]) : !isJsonContentType(headers["content-type"])) ||
    (method === "POST" && (headers["content-length"] === undefined || headers["transfer-encoding"] !== undefined))
  ) {
    return null;
  }
  let url: URL;
  let paths: string[];
  let isBatch: boolean;
  try {
    const protocol = "encrypted" in req.socket && req.socket.encrypted ? "https:" : "http:";
    url = new URL(req.url!, `${protocol}//${headers.host ?? "localhost"}`);
    const path = trimSlashes(trimSlashes(url.pathname).slice(trimSlashes(opts.basePath).length));
    const procedurePath = urlPathToProcedurePath(decodeURIComponent(path), config.pathSeparator);
    isBatch = url.searchParams.get("batch") === "1";
    paths = isBatch ? procedurePath.split(",") : [procedurePath];
    if (isBatch && paths.length > opts.maxBatchSize) return null;
    if (url.searchParams.has("connectionParams")) return null;
  } catch {
    return null;
  }
  const calls: AnyProcedure[] = [];
  for (const path of paths) {
    const proc = Object.hasOwn(procedures, path) ? procedures[path] : undefined;
    if (!proc || (proc._def.type !== "query" && proc._def.type !== "mutation")) return null;
    calls.push(proc);
  }
  const type = calls[0]!._def.type as "query" | "mutation";
  if (calls.some((c) => c._def.type !== type)) return null;
  return { url, isBatch, paths, calls, type };
}

/**
 * A drop-in for `createHTTPHandler(opts)`: the same options, the same answers;
 * what the fast path does not take goes to a stock handler built from them.
 */
export function createFastTrpcHandler<TContext>(opts: FastHandlerOptions<TContext>): NodeHandler {
  const config = opts.router._def._config as Config;
  const { transformer } = config;
  const stock = createHTTPHandler(opts as Parameters<typeof createHTTPHandler>[0]);

  return (req, res) => {
    const call = fastCallOf(opts, req);
    if (!call) return stock(req, res);
    const { url, isBatch, paths, calls, type } = call;
    void resolve(req, res, url, isBatch, paths, calls, type).catch((cause: unknown) => exceptionHandler(req, res, cause));
  };

  /** As the stock adapter's `internal_exceptionHandler`: a throwing error formatter, a failed write. */
  function exceptionHandler(req: IncomingMessage, res: ServerResponse, cause: unknown): void {
    const error = getTRPCErrorFromUnknown(cause);
    let shape: { data: { httpStatus: number } };
    try {
      shape = getErrorShape({ config, error, type: "unknown", path: undefined, input: undefined, ctx: undefined }) as typeof shape;
    } catch {
      shape = FALLBACK_ERROR_SHAPE;
    }
    opts.onError?.({ error, path: undefined, input: undefined, ctx: undefined, type: "unknown", req });
    if (res.headersSent) {
      res.end();
      return;
    }
    res.statusCode = shape.data.httpStatus;
    res.end(JSON.stringify(transformTRPCResponse(config, { error: shape } as never)));
  }

  async function resolve(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    isBatch: boolean,
    paths: string[],
    calls: AnyProcedure[],
    type: "query" | "mutation",
  ): Promise<void> {
    const headers = new HeaderList();
    headers.set("vary", "trpc-accept, accept");

    const inputs = memoInputs(async () => {
      let raw: unknown = undefined;
      if (req.method === "GET") {
        const query = url.searchParams.get("input");
        if (query) raw = JSON.parse(query);
      } else {
        const bytes = await readBody(req);
        if (bytes === null) throw new TRPCError({ code: "PAYLOAD_TOO_LARGE" });
        // TextDecoder, as the Fetch API's text(): a leading byte-order mark is dropped.
        const body = new TextDecoder().decode(bytes);
        if (body) raw = JSON.parse(body);
      }
      const result = emptyObject() as Record<number, unknown>;
      if (raw === undefined) return result;
      if (!isBatch) {
        result[0] = transformer.input.deserialize(raw);
        return result;
      }
      if (!isObject(raw)) {
        throw new TRPCError({ code: "BAD_REQUEST", message: '"input" needs to be an object when doing a batch call' });
      }
      for (const index of paths.keys()) {
        const item = (raw as Record<number, unknown>)[index];
        if (item !== undefined) result[index] = transformer.input.deserialize(item);
      }
      return result;
    });
    const info = {
      isBatchCall: isBatch,
      accept: null,
      calls: paths.map((path, index) => ({
        batchIndex: index,
        path,
        procedure: calls[index],
        getRawInput: async () => (await inputs.read())[index],
        result: () => inputs.result()?.[index],
      })),
      type,
      connectionParams: null,
      signal: undefined as AbortSignal | undefined,
      url,
    };

    // The request's signal: aborted when the client goes away before the answer.
    const abort = new AbortController();
    const onClose = () => {
      if (!res.writableEnded) abort.abort();
    };
    res.once("close", onClose);
    info.signal = abort.signal;

    let ctxResult: [unknown, TContext | undefined];
    try {
      ctxResult = [undefined, await opts.createContext({ req, res, info })];
    } catch (cause) {
      ctxResult = [getTRPCErrorFromUnknown(cause), undefined];
    }
    const ctx = ctxResult[1];

    const results = await Promise.all(
      info.calls.map(async (call, index): Promise<[TRPCError | undefined, unknown]> => {
        const proc = calls[index]!;
        try {
          if (METHODS[proc._def.type] !== req.method) {
            headers.set("allow", ALLOW[proc._def.type]!);
            throw new TRPCError({
              code: "METHOD_NOT_SUPPORTED",
              message: `Unsupported ${req.method}-request to ${proc._def.type} procedure at path "${call.path}"`,
            });
          }
          if (ctxResult[0]) throw ctxResult[0];
          const data = await proc({
            path: call.path,
            getRawInput: call.getRawInput,
            ctx,
            type: proc._def.type,
            signal: abort.signal,
            batchIndex: call.batchIndex,
          });
          return [undefined, data];
        } catch (cause) {
          const error = getTRPCErrorFromUnknown(cause);
          opts.onError?.({ error, path: call.path, input: call.result(), ctx, type: proc._def.type, req });
          return [error, undefined];
        }
      }),
    );

    let body: string;
    let status: number;
    headers.set("content-type", "application/json");
    const streamed = results.findIndex(([error, data]) => !error && isDataStream(data));
    if (!isBatch && streamed === 0) {
      // Single call: resolveResponse throws, and its outer catch answers with type-less context.
      const error = new TRPCError({
        code: "UNSUPPORTED_MEDIA_TYPE",
        message: "Cannot use stream-like response in non-streaming request - use httpBatchStreamLink",
      });
      opts.onError?.({ error, path: undefined, input: undefined, ctx, type, req });
      const json = { error: getErrorShape({ config, error, type, path: undefined, input: undefined, ctx }) };
      status = initResponse(json, [error], ctx, info, headers);
      body = JSON.stringify(transformTRPCResponse(config, json as never));
    } else {
      const settled = results.map(([error, data]): [TRPCError | undefined, unknown] =>
        !error && isDataStream(data)
          ? [
              new TRPCError({
                code: "UNSUPPORTED_MEDIA_TYPE",
                message: "Cannot use stream-like response in non-streaming request - use httpBatchStreamLink",
              }),
              undefined,
            ]
          : [error, data],
      );
      const items = settled.map(([error, data], index) => {
        const call = info.calls[index]!;
        return error
          ? { error: getErrorShape({ config, ctx, error, input: call.result(), path: call.path, type: calls[index]!._def.type }) }
          : { result: { data } };
      });
      const json = isBatch ? items : items[0]!;
      status = initResponse(isBatch ? items : [items[0]!], settled.map(([error]) => error), ctx, info, headers);
      body = JSON.stringify(transformTRPCResponse(config, json as never));
    }

    // As the stock adapter writes it: status, headers in sorted order, the body
    // as one chunk, then end (chunked encoding). Corked: one syscall, same bytes.
    if (res.statusCode === 200) res.statusCode = status;
    for (const [name, value] of headers.sorted()) res.setHeader(name, value);
    res.cork();
    res.write(body);
    res.end();
    res.uncork();
    res.off("close", onClose);
  }

  /** tRPC's `initResponse`: the status from the answers, then `responseMeta` headers and status. */
  function initResponse(
    untransformed: unknown[] | Record<string, unknown>,
    errors: (TRPCError | undefined)[],
    ctx: TContext | undefined,
    info: { calls: { path: string }[] } & Record<string, unknown>,
    headers: HeaderList,
  ): number {
    let status = getHTTPStatusCode(untransformed as never, errors as never);
    const data = Array.isArray(untransformed) ? untransformed : [untransformed];
    const meta =
      opts.responseMeta?.({
        ctx,
        info,
        paths: info.calls.map((call) => call.path),
        data,
        errors: errors.filter((e): e is TRPCError => Boolean(e)),
        eagerGeneration: false,
        type: (info.type as string) ?? "unknown",
      }) ?? {};
    if (meta.headers) {
      for (const [key, value] of Object.entries(meta.headers) as [string, string | string[]][]) {
        if (Array.isArray(value)) for (const v of value) headers.append(key, v);
        else if (typeof value === "string") headers.set(key, value);
      }
    }
    if (meta.status) status = meta.status;
    return status;
  }
}
