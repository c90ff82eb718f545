/**
 * `GET /panel`: the tRPC panel (trpc-ui-zod4), a page listing every procedure
 * with a form built from its zod input, calling `/trpc` with superjson. Off in
 * production unless PANEL=on (`config.panel`): the route then does not exist.
 *
 * The page is rendered once, on first request, and cached. A failure to render
 * answers that request with 500 and is retried on the next one; it never
 * reaches the server (the panel module is only loaded when the panel is
 * asked for, so even a broken install of it cannot stop start-up).
 */
import type { AnyTRPCRouter } from "@trpc/server";
import * as z from "zod";
import { appRouter } from "../../routers/_app.ts";
import type { ProcedureMeta } from "../procedure-meta.ts";
import type { Services } from "../services.ts";
import type { Route } from "./route.ts";
import { allowMethods, sendContent, sendError } from "./wire.ts";

/** Renders the panel's HTML; replaceable in tests. */
export type PanelRenderer = (router: AnyTRPCRouter) => string | Promise<string>;

const DESCRIPTION = [
  "Every procedure of Gatehouse, with a form built from its input schema; calls go to /trpc.",
  "Protected procedures need a bearer token: run **auth.register** or **auth.login**, copy **accessToken**",
  "from the result, then under **Headers** (top right) add the header **authorization** with the value **Bearer ACCESS_TOKEN**.",
].join(" ");

/**
 * The input side of each zod pipe in an object schema. trpc-ui-zod4 renders no
 * field at all for a pipe, and `Email` is one (trim and lower-case, then check
 * the address), so `auth.register` would have no email box. The panel only
 * draws forms from these schemas: calls still go to `/trpc`, where the real
 * schemas validate them.
 */
function formSchema(schema: unknown): unknown {
  if (!(schema instanceof z.ZodObject)) return schema;
  const shape = Object.fromEntries(
    Object.entries(schema.shape as Record<string, z.ZodType>).map(([key, field]) => [key, field instanceof z.ZodPipe ? field.in : formSchema(field)]),
  );
  return z.object(shape);
}

/** Keys of a root router that are not procedures or sub-routers (trpc-ui skips them too). */
const NOT_CHILDREN = new Set(["_def", "createCaller", "getErrorShape"]);

type ProcedureNode = ((...args: unknown[]) => unknown) & { _def: { inputs?: unknown[]; meta?: ProcedureMeta } };

/** The text the panel shows under a procedure: its summary, and the permission it needs. */
function panelDescription(meta: ProcedureMeta | undefined): string | undefined {
  if (!meta?.permission) return meta?.summary;
  return `${meta.summary ?? ""} · Requires the permission ${meta.permission}.`;
}

/**
 * A copy of the router tree as trpc-ui reads it (procedures are functions with
 * a `_def`; routers, root or nested, are records of them), with form-friendly inputs.
 */
function panelView(node: object): object {
  if (typeof node === "function") {
    const procedure = node as ProcedureNode;
    return Object.assign(() => undefined, procedure, {
      _def: {
        ...procedure._def,
        inputs: (procedure._def.inputs ?? []).map(formSchema),
        meta: { ...procedure._def.meta, description: panelDescription(procedure._def.meta) },
      },
    });
  }
  return Object.fromEntries(
    Object.entries(node).map(([key, child]) => [key, NOT_CHILDREN.has(key) ? child : panelView(child as object)]),
  );
}

/** trpc-ui-zod4, loaded on first use. */
const renderTrpcUi: PanelRenderer = async (router) => {
  const { renderTrpcPanel } = await import("trpc-ui-zod4");
  return renderTrpcPanel(panelView(router) as AnyTRPCRouter, {
    url: "/trpc",
    transformer: "superjson",
    meta: { title: "Gatehouse", description: DESCRIPTION },
  });
};

/**
 * The page runs a bundled React app inline, and calls only its own origin.
 * It must not be framed: a framed panel could be clicked into running
 * mutations (OWASP Clickjacking Defense Cheat Sheet).
 */
const PANEL_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "content-security-policy": "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "referrer-policy": "no-referrer",
} as const;

/** Builds the `/panel` route; answers nothing (so: 404) when the panel is off. */
export function createPanelRoute(services: Services, render: PanelRenderer = renderTrpcUi): Route {
  let page: Promise<string> | null = null;

  return async (req, res, path) => {
    if (!services.config.panel || (path !== "/panel" && path !== "/panel/")) return false;
    if (!allowMethods(req, res, ["GET", "HEAD"])) return true;
    try {
      page ??= Promise.resolve().then(() => render(appRouter));
      sendContent(req, res, PANEL_HEADERS, await page);
    } catch (error) {
      page = null;
      services.log.error({ err: error }, "could not render the tRPC panel");
      sendError(res, 500, "INTERNAL");
    }
    return true;
  };
}
