/**
 * The client's IP address: the TCP peer, or what TRUST_PROXY says to believe
 * of `X-Forwarded-For` (server/trust-proxy.ts). Anyone can send the header,
 * so by default it is ignored: trusting it would let a client pick its own
 * rate-limit bucket and the address recorded on its sessions.
 */
import type { IncomingMessage } from "node:http";
import { clientIpResolver, normaliseIp, type TrustProxy } from "../trust-proxy.ts";

/** The function that reads the client IP of a request under a TRUST_PROXY setting. */
export function clientIpReader(trust: TrustProxy): (req: IncomingMessage) => string | null {
  const resolve = clientIpResolver(trust);
  return (req) => {
    const remote = req.socket.remoteAddress;
    const header = req.headers["x-forwarded-for"];
    // Node joins repeated X-Forwarded-For headers with ", ", in order.
    return resolve(remote ? normaliseIp(remote) : null, Array.isArray(header) ? header.join(",") : header);
  };
}
