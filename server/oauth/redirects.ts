/**
 * The redirect allow-list: where a callback may send the browser with its
 * one-time code. A redirect is allowed when its origin is exactly the origin
 * of APP_URL or one of CORS_ORIGINS (scheme, host and port compared as
 * parsed, no user info); anything else would be an open redirect carrying a
 * sign-in code to a stranger (OWASP Unvalidated Redirects Cheat Sheet;
 * RFC 9700 section 4.1).
 */
import type { Config } from "../env.ts";

/** The redirect as a URL when it is allowed, else null. */
export function allowedRedirect(config: Pick<Config, "appUrl" | "corsOrigins">, redirect: string | null): URL | null {
  if (redirect === null || redirect.length > 2000 || !URL.canParse(redirect)) return null;
  const url = new URL(redirect);
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username !== "" || url.password !== "") return null;
  const origins = new Set([new URL(config.appUrl).origin, ...config.corsOrigins]);
  return origins.has(url.origin) ? url : null;
}

/** The redirect with `params` set on it (the one-time code, or an error's appCode). */
export function withParams(redirect: string, params: Record<string, string>): string {
  const url = new URL(redirect);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}
