/** `/healthz` (the process runs) and `/readyz` (the database answers). */
import type { Services } from "../services.ts";
import type { Route } from "./route.ts";
import { sendJson } from "./wire.ts";

export function createHealthRoutes(services: Services): Route[] {
  const isProbe = (method: string | undefined) => method === "GET" || method === "HEAD";
  return [
    (req, res, path) => {
      if (path !== "/healthz" || !isProbe(req.method)) return false;
      sendJson(res, 200, { status: "ok" });
      return true;
    },
    async (req, res, path) => {
      if (path !== "/readyz" || !isProbe(req.method)) return false;
      const ready = await services.db.ping();
      sendJson(res, ready ? 200 : 503, { status: ready ? "ok" : "unavailable" });
      return true;
    },
  ];
}
