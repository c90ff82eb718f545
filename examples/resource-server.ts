/**
 * A service that trusts Gatehouse's access tokens without calling it: it
 * verifies them with `gatehouse/verify` against Gatehouse's JWKS.
 *
 *   JWT_ALG=ES256 npm start                         # Gatehouse with published keys
 *   npx tsx examples/resource-server.ts             # listens on RESOURCE_PORT (default 4000)
 *   curl -H "Authorization: Bearer <accessToken>" http://127.0.0.1:4000/whoami
 *
 * Offline verification cannot see a logout: a token stays valid here until it
 * expires (ACCESS_TOKEN_TTL). Keep that short, and ask Gatehouse (`auth.me`)
 * before anything that must not outlive a revocation (docs/tokens.md).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createVerifier, TokenVerificationError } from "gatehouse/verify";

const gatehouse = process.env.GATEHOUSE_URL ?? "http://127.0.0.1:3000";
const verifier = createVerifier({ issuer: "gatehouse", audience: "gatehouse", jwksUrl: `${gatehouse}/.well-known/jwks.json` });

function send(res: import("node:http").ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const server = createServer(async (req, res) => {
  if (req.url !== "/whoami") return send(res, 404, { error: "not found" });
  const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
  if (!token) return send(res, 401, { error: "TOKEN_MISSING" });
  try {
    const claims = await verifier.verify(token);
    send(res, 200, { userId: claims.sub, sessionId: claims.sid, roles: claims.roles, expiresAt: new Date(claims.exp * 1000).toISOString() });
  } catch (error) {
    if (error instanceof TokenVerificationError) return send(res, 401, { error: error.code });
    send(res, 502, { error: "JWKS_UNAVAILABLE" });
  }
});

server.listen(Number(process.env.RESOURCE_PORT ?? 4000), "127.0.0.1", () => {
  console.log(`resource server on http://127.0.0.1:${(server.address() as AddressInfo).port}, trusting ${gatehouse}`);
});
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
