/**
 * Where a webhook may be sent. In production a target must resolve only to
 * public addresses: a webhook URL is chosen by an admin, but a server that
 * posts wherever it is told can be turned on its own network (cloud metadata
 * at 169.254.169.254, databases on 10.x, services on loopback): OWASP SSRF
 * Prevention Cheat Sheet. The check runs when the endpoint is created and
 * again before every attempt, and the attempt connects to exactly the
 * addresses checked (server/webhooks/send.ts), so a name that re-resolves to
 * a private address later (DNS rebinding) is refused too.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import type { LookupAddress } from "node:dns";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

/** Whether private, loopback and link-local targets are allowed (development and tests: yes; production: no). */
export interface TargetPolicy {
  allowPrivate: boolean;
}

/** A target that must not be posted to, with the reason (shown to the admin, recorded on the attempt). */
export class TargetRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TargetRefusedError";
  }
}

/** Resolves a host name to all of its addresses. */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

const systemResolve: Resolve = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * Whether an address is a public unicast one. IPv4-mapped IPv6 addresses
 * (`::ffff:127.0.0.1`) are judged as the IPv4 address they carry; other IPv6
 * addresses must be global unicast (2000::/3), which leaves out the
 * IPv4-compatible `::a.b.c.d`, unique-local fc00::/7, link-local fe80::/10
 * and the rest.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  if (parsed.range() !== "unicast") return false;
  return parsed.kind() === "ipv4" || (parsed.toByteArray()[0]! & 0xe0) === 0x20;
}

/** The host of a URL as a resolver or an IP check takes it (IPv6 literals without brackets). */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

/**
 * The addresses to connect to for a target, every one checked under the
 * policy. Throws TargetRefusedError when the name does not resolve or any of
 * its addresses is private: one bad address is enough, since a connection
 * may go to any of them.
 */
export async function resolveTarget(url: URL, policy: TargetPolicy, resolve: Resolve = systemResolve): Promise<LookupAddress[]> {
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new TargetRefusedError(`${url.protocol} is not http or https`);
  const host = hostOf(url);
  const family = isIP(host);
  let addresses: LookupAddress[];
  if (family !== 0) {
    addresses = [{ address: host, family }];
  } else {
    try {
      addresses = await resolve(host);
    } catch (error) {
      throw new TargetRefusedError(`${host} does not resolve (${(error as { code?: string }).code ?? "lookup failed"})`);
    }
    if (addresses.length === 0) throw new TargetRefusedError(`${host} does not resolve`);
  }
  if (!policy.allowPrivate) {
    const refused = addresses.find((entry) => !isPublicAddress(entry.address));
    if (refused) {
      const named = refused.address === host ? host : `${host} (${refused.address})`;
      throw new TargetRefusedError(`${named} is not a public address: private, loopback and link-local targets are refused in production`);
    }
  }
  return addresses;
}
