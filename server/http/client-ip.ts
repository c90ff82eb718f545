/**
 * The client's IP address. `X-Forwarded-For` is only believed behind a proxy
 * we were told about (TRUST_PROXY=true): anyone can send the header, so
 * trusting it by default would let a client pick its own rate-limit bucket.
 */
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

function normalise(ip: string): string {
  // IPv4 clients on a dual-stack socket appear as ::ffff:a.b.c.d.
  return ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** The address of the client (or, with trustProxy, the first hop the proxy reports). */
export function clientIpOf(req: IncomingMessage, trustProxy: boolean): string | null {
  if (trustProxy) {
    const header = req.headers["x-forwarded-for"];
    const first = (Array.isArray(header) ? header[0] : header)?.split(",")[0]?.trim();
    if (first && isIP(first)) return normalise(first);
  }
  const remote = req.socket.remoteAddress;
  return remote ? normalise(remote) : null;
}
