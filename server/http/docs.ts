/**
 * `GET /docs`: the OpenAPI document (`/openapi.json`) rendered by Swagger UI,
 * served from the `swagger-ui-dist` package on this server, so that it works
 * offline. Like the panel it can send requests ("Try it out"), so it follows
 * the panel's switch: off in production unless PANEL=on.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Services } from "../services.ts";
import type { Route } from "./route.ts";
import { allowMethods, sendContent, sendError } from "./wire.ts";

const DIST = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Gatehouse REST API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

// `validatorUrl: null`: no badge fetched from swagger.io; the page talks to this server only.
const INIT = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  persistAuthorization: false,
});
`;

type Asset = { type: string; body: () => Promise<string | Buffer> };

/** The only files served: nothing else under the package's folder is reachable. */
const ASSETS: Record<string, Asset> = {
  "/docs": { type: "text/html; charset=utf-8", body: async () => PAGE },
  "/docs/init.js": { type: "text/javascript; charset=utf-8", body: async () => INIT },
  "/docs/swagger-ui.css": { type: "text/css; charset=utf-8", body: () => readFile(join(DIST, "swagger-ui.css")) },
  "/docs/swagger-ui-bundle.js": { type: "text/javascript; charset=utf-8", body: () => readFile(join(DIST, "swagger-ui-bundle.js")) },
};

/** Scripts and styles from this origin only (Swagger UI sets inline styles); never framed. */
const DOCS_HEADERS = {
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "referrer-policy": "no-referrer",
} as const;

/** Builds the `/docs` route; answers nothing (so: 404) when the panel switch is off. */
export function createDocsRoute(services: Services): Route {
  const cache = new Map<string, Promise<string | Buffer>>();
  return async (req, res, path) => {
    const key = path === "/docs/" ? "/docs" : path;
    const asset = ASSETS[key];
    if (!services.config.panel || !asset) return false;
    if (!allowMethods(req, res, ["GET", "HEAD"])) return true;
    let body = cache.get(key);
    if (!body) cache.set(key, (body = asset.body()));
    try {
      sendContent(req, res, { ...DOCS_HEADERS, "content-type": asset.type }, await body);
    } catch (error) {
      cache.delete(key);
      services.log.error({ err: error }, "could not serve the API docs");
      sendError(res, 500, "INTERNAL");
    }
    return true;
  };
}
