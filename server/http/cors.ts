/**
 * CORS for the browser origins in CORS_ORIGINS (docs/API.md).
 *
 * Exact origin match against the allow-list, the origin echoed back (never
 * `*`), `Vary: Origin` so caches keep answers per origin, and nothing at all
 * for other origins or when the list is empty: the browser then blocks the
 * read, which is the point. No credentials mode: Gatehouse authenticates with
 * bearer tokens, not cookies. See the Fetch standard, "CORS protocol", and
 * OWASP's HTML5 Security Cheat Sheet.
 */
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Config } from "../env.ts";
import type { Route } from "./route.ts";

const CORS_ALLOWED_METHODS = "GET, POST, OPTIONS";
const CORS_ALLOWED_HEADERS = "content-type, authorization, x-request-id, trpc-accept";
/** Response headers a browser script may read (Retry-After for RATE_LIMITED / OVERLOADED). */
const CORS_EXPOSED_HEADERS = "x-request-id, retry-after";
/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = 600;

/**
 * A pre-handler placed first among the routes: it adds CORS headers for an
 * allowed origin and answers its preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) with 204; every other request goes on to
 * the next route.
 */
export function createCorsRoute(config: Pick<Config, "corsOrigins">): Route {
  const allowed = new Set(config.corsOrigins);
  return (req, res) => {
    if (allowed.size === 0) return false;
    // The answer depends on Origin whenever CORS is configured, allowed or not.
    varyOnOrigin(res);
    const origin = req.headers.origin;
    if (origin === undefined || !allowed.has(origin)) return false;
    res.setHeader("access-control-allow-origin", origin);
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
      res.writeHead(204, {
        "access-control-allow-methods": CORS_ALLOWED_METHODS,
        "access-control-allow-headers": CORS_ALLOWED_HEADERS,
        "access-control-max-age": String(PREFLIGHT_MAX_AGE),
        "content-length": "0",
      });
      res.end();
      return true;
    }
    res.setHeader("access-control-expose-headers", CORS_EXPOSED_HEADERS);
    return false;
  };
}

/**
 * Makes sure `Vary` names Origin when the headers go out. The tRPC adapters
 * set their own `Vary` (trpc-accept, accept) and would overwrite a value set
 * now, so this hooks `writeHead`, through which every response passes (the
 * `on-headers` package does the same).
 */
function varyOnOrigin(res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    const last = rest.at(-1);
    if (last !== null && typeof last === "object" && !Array.isArray(last)) {
      // Headers given to writeHead win over setHeader; fold them in first so Vary sees them.
      for (const [name, value] of Object.entries(last as OutgoingHttpHeaders)) {
        if (value !== undefined) this.setHeader(name, value);
      }
      rest = rest.slice(0, -1);
    }
    const vary = String(this.getHeader("vary") ?? "");
    if (!/(^|,)\s*origin\s*(,|$)/i.test(vary)) this.setHeader("vary", vary === "" ? "Origin" : `${vary}, Origin`);
    return (writeHead as (...args: unknown[]) => ServerResponse).call(this, statusCode, ...rest);
  } as ServerResponse["writeHead"];
}
