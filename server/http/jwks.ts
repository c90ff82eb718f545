/**
 * `GET /.well-known/jwks.json`: the public signing keys (RFC 7517), for
 * services that verify access tokens themselves. Empty with JWT_ALG=HS256.
 * Cached for 5 minutes by clients; rotation publishes a key well before it
 * signs, and verifiers refetch on an unknown `kid` (docs/tokens.md).
 */
import type { Services } from "../services.ts";
import type { Route } from "./route.ts";
import { sendContent } from "./wire.ts";

const JWKS_PATH = "/.well-known/jwks.json";

export function createJwksRoute(services: Pick<Services, "keyring" | "now">): Route {
  return (req, res, path) => {
    if (path !== JWKS_PATH || (req.method !== "GET" && req.method !== "HEAD")) return false;
    const body = JSON.stringify(services.keyring.jwks(services.now()));
    sendContent(req, res, { "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300" }, body);
    return true;
  };
}
