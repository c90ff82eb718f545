/**
 * `GET /oauth/<provider>/start?redirect=<allowed url>` and
 * `GET /oauth/<provider>/callback` (server/oauth/callback.ts). Both answer
 * 302 with `cache-control: no-store` and `referrer-policy: no-referrer`, so
 * neither the provider's URL nor the one-time code leaks through a Referer.
 * Refusals before a trusted redirect is known are JSON errors like every
 * route's. Both count against AUTH_RATE_LIMIT_PER_MINUTE, like the public
 * auth mutations: each stores a row.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { logSecurityEvent } from "../audit/security-log.ts";
import { AppError } from "../errors.ts";
import { clientKey } from "../limits/client-key.ts";
import { finishCallback, flowCookieName, startSignIn } from "../oauth/callback.ts";
import { FLOW_TTL_SECONDS } from "../oauth/flows.ts";
import type { Services } from "../services.ts";
import { clientIpReader } from "./client-ip.ts";
import { requestIdOf } from "./request-id.ts";
import { requestFactsOf } from "./request-trace.ts";
import type { Route } from "./route.ts";
import { allowMethods, sendError } from "./wire.ts";

const OAUTH_PATH = /^\/oauth\/([a-z][a-z0-9]{0,31})\/(start|callback)$/;

function cookies(req: IncomingMessage): (name: string) => string | null {
  const jar = new Map<string, string>();
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) jar.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return (name) => jar.get(name) ?? null;
}

function redirect(res: ServerResponse, location: string, cookie: string): void {
  res.writeHead(302, { location, "set-cookie": cookie, "cache-control": "no-store", "referrer-policy": "no-referrer", "content-length": 0 });
  res.end();
}

export function createOAuthRoutes(services: Services): Route {
  const readIp = clientIpReader(services.config.trustProxy);
  // The binding cookie goes back only to the callback path, never to scripts; Secure whenever PUBLIC_URL is https.
  const secure = new URL(services.config.publicUrl).protocol === "https:" ? "; Secure" : "";
  const attributes = `Path=/oauth/; HttpOnly; SameSite=Lax${secure}`;

  return async (req, res, path) => {
    const match = OAUTH_PATH.exec(path);
    if (!match) return false;
    if (!allowMethods(req, res, ["GET"])) return true;
    const [, provider, step] = match as unknown as [string, string, "start" | "callback"];
    const query = new URL(req.url ?? "/", "http://gatehouse.invalid").searchParams;
    const { ip } = requestFactsOf(req, readIp);
    const meta = { ip, userAgent: req.headers["user-agent"] ?? null };
    const requestId = requestIdOf(req);
    const log = (outcome: "success" | "failure", appCode: AppError["appCode"] | null) =>
      logSecurityEvent(services, { event: `auth.oauth.${step}`, outcome, appCode, ip, requestId });
    try {
      await services.limits.authCalls.consume(clientKey(ip));
      if (step === "start") {
        const started = await startSignIn(services, provider, query.get("redirect"));
        log("success", null);
        redirect(res, started.location, `${flowCookieName(started.flowId)}=${started.browserSecret}; Max-Age=${FLOW_TTL_SECONDS}; ${attributes}`);
      } else {
        const finished = await finishCallback(services, provider, query, cookies(req), meta);
        const refused = new URL(finished.location).searchParams.get("error");
        log(refused === null ? "success" : "failure", refused as AppError["appCode"] | null);
        redirect(res, finished.location, `${flowCookieName(finished.flowId)}=; Max-Age=0; ${attributes}`);
      }
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      log("failure", error.appCode);
      if (error.retryAfter !== undefined) res.setHeader("retry-after", String(error.retryAfter));
      sendError(res, getHTTPStatusCodeFromError(error), error.appCode, error.message);
    }
    return true;
  };
}
