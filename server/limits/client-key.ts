/** The bucket a client address is counted in by the per-IP limits. */
import { isIP } from "node:net";

/**
 * The bucket of a client address. An IPv6 host usually owns a whole /64, so
 * counting single addresses would let it rotate through 2^64 buckets.
 */
export function clientKey(ip: string | null): string {
  if (ip === null) return "unknown";
  if (isIP(ip) !== 6) return ip;
  return `${expandIpv6(ip).slice(0, 4).join(":")}::/64`;
}

function expandIpv6(ip: string): string[] {
  const [head = "", tail] = ip.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = Math.max(0, 8 - left.length - right.length);
  return [...left, ...Array<string>(missing).fill("0"), ...right].map((group) => group.toLowerCase().replace(/^0+(?=.)/, ""));
}
