/**
 * TRUST_PROXY: which `X-Forwarded-For` entries to believe. Anyone can send
 * the header, and proxies (nginx's `$proxy_add_x_forwarded_for`, AWS ALB,
 * Cloudflare) *append* to what the client sent. So the only entries worth
 * anything are the rightmost ones, written by proxies we run; the client IP
 * is the first entry, read from the right, that was not written about one of
 * them (MDN, "X-Forwarded-For: Selecting an IP address"; the same rule as
 * Express's `trust proxy` and proxy-addr).
 *
 * - unset, `false`, `0`: the header is ignored; the TCP peer is the client.
 * - a number N (`true` means 1): N proxies stand in front; the client is the
 *   Nth entry from the right (the TCP peer being the last proxy).
 * - a comma list of addresses, CIDRs and the names `loopback`, `linklocal`,
 *   `uniquelocal`: walking from the TCP peer leftwards, every hop inside the
 *   list is skipped; the first one outside is the client.
 *
 * Either way a client can prepend whatever it likes and never choose its IP.
 */
import { BlockList, isIP } from "node:net";

export type TrustProxy = { kind: "none" } | { kind: "hops"; hops: number } | { kind: "cidrs"; cidrs: string[] };

/** Most proxies we accept in a chain; more is a configuration mistake. */
const MAX_HOPS = 10;

/** Express's names for the usual private ranges. */
const NAMED_RANGES: Record<string, string[]> = {
  loopback: ["127.0.0.0/8", "::1/128"],
  linklocal: ["169.254.0.0/16", "fe80::/10"],
  uniquelocal: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
};

/** Parses TRUST_PROXY; a string is the reason the value is refused. */
export function parseTrustProxy(value: string | undefined): TrustProxy | string {
  const v = (value ?? "").trim().toLowerCase();
  if (["", "false", "0", "no", "off"].includes(v)) return { kind: "none" };
  if (["true", "yes", "on"].includes(v)) return { kind: "hops", hops: 1 };
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    return hops <= MAX_HOPS ? { kind: "hops", hops } : `at most ${MAX_HOPS} proxies (got ${hops})`;
  }
  const cidrs: string[] = [];
  for (const item of v.split(",").map((s) => s.trim()).filter(Boolean)) {
    const named = NAMED_RANGES[item];
    if (named) {
      cidrs.push(...named);
      continue;
    }
    const [address = "", prefix, extra] = item.split("/");
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || (prefix !== undefined && !(/^\d+$/.test(prefix) && Number(prefix) <= max))) {
      return `"${item}" is neither a number of proxies, an address, a CIDR, nor loopback / linklocal / uniquelocal`;
    }
    cidrs.push(prefix === undefined ? `${address}/${max}` : item);
  }
  return { kind: "cidrs", cidrs };
}

/** IPv4 clients on a dual-stack socket appear as ::ffff:a.b.c.d. */
export function normaliseIp(ip: string): string {
  return ip.toLowerCase().startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** An entry as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `[::1]:5678`, `::1`; null when it is not an address. */
function entryAddress(entry: string): string | null {
  let e = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(e);
  if (bracketed) e = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(e)) e = e.slice(0, e.lastIndexOf(":"));
  return isIP(e) ? normaliseIp(e) : null;
}

/** Compiles TRUST_PROXY into the function that picks the client IP of a request. */
export function clientIpResolver(trust: TrustProxy): (peer: string | null, forwardedFor: string | undefined) => string | null {
  if (trust.kind === "none") return (peer) => peer;
  if (trust.kind === "hops") {
    const { hops } = trust;
    return (peer, forwardedFor) => {
      if (!forwardedFor || hops === 0) return peer;
      const entries = forwardedFor.split(",");
      // Fewer entries than proxies: the chain is shorter than configured, and
      // the leftmost entry is the furthest hop any proxy saw.
      const entry = entries[Math.max(0, entries.length - hops)]!;
      // An entry our own proxy wrote cannot be garbage unless it is misconfigured: keep the peer then.
      return entryAddress(entry) ?? peer;
    };
  }
  const trusted = new BlockList();
  for (const cidr of trust.cidrs) {
    const [address, prefix] = cidr.split("/") as [string, string];
    trusted.addSubnet(address, Number(prefix), isIP(address) === 4 ? "ipv4" : "ipv6");
  }
  const isTrusted = (ip: string) => trusted.check(ip, isIP(ip) === 4 ? "ipv4" : "ipv6");
  return (peer, forwardedFor) => {
    if (peer === null || !isTrusted(peer) || !forwardedFor) return peer;
    let client = peer;
    const entries = forwardedFor.split(",");
    for (let i = entries.length - 1; i >= 0; i--) {
      const address = entryAddress(entries[i]!);
      // Garbage to the right of any untrusted entry: whoever wrote it was
      // trusted, so the last trusted hop is as far as we can see.
      if (address === null) return client;
      client = address;
      if (!isTrusted(address)) return address;
    }
    return client;
  };
}
