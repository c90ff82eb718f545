/**
 * The `procedure` label of a request: which procedures of the router it
 * called (one per call of a batch), or which fixed route it took. Anything
 * else, a misspelt procedure or a path a scanner tried, is "unknown", so the
 * number of series stays bounded by the router, whatever clients send.
 */
import { restRouteOf } from "../procedure-meta.ts";
import type { AnyTRPCRouter } from "@trpc/server";

/** The label of every path and procedure that is not ours. */
const UNKNOWN = "unknown";

/** Routes outside the procedures, labelled by their path. */
const ROUTES = new Map([
  ["/healthz", "/healthz"],
  ["/readyz", "/readyz"],
  ["/metrics", "/metrics"],
  ["/openapi.json", "/openapi.json"],
  ["/panel", "/panel"],
  ["/panel/", "/panel"],
  ["/docs", "/docs"],
  ["/docs/", "/docs"],
]);

const DOCS = ["/docs"] as const;

/** Paths of the REST bridge, relative to `/api`: "POST /auth/login" → "auth.login". */
type RestTable = Map<string, string>;

/** Most distinct request paths remembered with their labels (batches combine procedures). */
const CACHE_MAX = 1_000;

interface RequestLabeler {
  /** The labels of a request: one for each call. */
  labelsOf(method: string | undefined, path: string, url: string | undefined): readonly string[];
  /** The label of a procedure path as tRPC reports it: itself when it exists, else "unknown". */
  procedureLabel(path: string | undefined): string;
}

/** Labels requests by the procedures of a router. */
export function requestLabeler(router: AnyTRPCRouter): RequestLabeler {
  // `_def.procedures` is flat at run time ("auth.login" → procedure).
  const procedures = router._def.procedures as Record<string, { _def: { type: string } }>;
  const known = new Set(Object.keys(procedures));
  const rest: RestTable = new Map();
  for (const [name, procedure] of Object.entries(procedures)) {
    const route = restRouteOf(name, procedure._def.type);
    if (route) rest.set(`${route.method} ${route.path}`, name);
  }
  const unknown = [UNKNOWN] as const;
  const cache = new Map<string, readonly string[]>();

  const trpcLabels = (path: string, batch: boolean): readonly string[] => {
    let names: string;
    try {
      names = decodeURIComponent(path.slice("/trpc/".length));
    } catch {
      return unknown;
    }
    return (batch ? names.split(",") : [names]).map((name) => (known.has(name) ? name : UNKNOWN));
  };

  const labelsOf = (method: string | undefined, path: string, url: string | undefined): readonly string[] => {
    const route = ROUTES.get(path);
    if (route !== undefined) return [route];
    // A comma separates calls only in a batch; elsewhere it is part of one (unknown) name.
    const batch = path.includes(",") && new URLSearchParams(url?.split("?", 2)[1] ?? "").get("batch") === "1";
    const key = `${method} ${path}${batch ? " batch" : ""}`;
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    let labels: readonly string[] = unknown;
    if (path.startsWith("/trpc/")) labels = trpcLabels(path, batch);
    else if (path.startsWith("/api/")) labels = [rest.get(`${method} ${path.slice("/api".length)}`) ?? UNKNOWN];
    // Swagger UI's own files.
    else if (path.startsWith("/docs/") && !path.slice("/docs/".length).includes("/")) labels = DOCS;
    // Only paths made of our own names are remembered: a client cannot fill the cache.
    if (cache.size < CACHE_MAX && !labels.includes(UNKNOWN)) cache.set(key, labels);
    return labels;
  };
  return { labelsOf, procedureLabel: (path) => (path !== undefined && known.has(path) ? path : UNKNOWN) };
}
