/**
 * The two browser steps of an OAuth sign-in or link (routes in
 * server/http/oauth-routes.ts) and the link request of `auth.linkOAuth`:
 *
 * 1. start: check the provider and the redirect, store the flow, send the
 *    browser to the provider (a sign-in also gets its binding cookie);
 * 2. callback: claim the flow, redeem the provider's code for a verified
 *    identity, then either link it (a link flow) or store it under a
 *    one-time code, and send the browser back to the redirect with `code`
 *    (or `linked`, or `error=<appCode>`). No token is ever put in a URL.
 *
 * A callback whose state cannot be claimed has no trusted redirect: it is
 * answered with the error itself (OAUTH_STATE_INVALID), not a redirect.
 */
import type { AuthDeps, RequestMeta } from "../deps.ts";
import type { Config } from "../env.ts";
import { AppError, appError } from "../errors.ts";
import type { Sealer } from "../secrets/sealer.ts";
import { issueOAuthCode } from "./codes.ts";
import { claimFlow, flowIdOf, newBrowserSecret, startFlow } from "./flows.ts";
import { linkToUser } from "./identities.ts";
import type { OAuthProvider } from "./provider.ts";
import { callbackUrl } from "./providers.ts";
import { allowedRedirect, withParams } from "./redirects.ts";

export interface OAuthDeps extends AuthDeps {
  sealer: Sealer;
  config: Pick<Config, "appUrl" | "corsOrigins" | "publicUrl">;
  /** The configured providers by name (OAUTH_PROVIDERS). */
  oauth: ReadonlyMap<string, OAuthProvider>;
}

function providerOf(deps: OAuthDeps, name: string): OAuthProvider {
  const provider = deps.oauth.get(name);
  if (!provider) throw appError("OAUTH_PROVIDER_UNKNOWN");
  return provider;
}

function redirectOf(deps: OAuthDeps, redirect: string | null): string {
  const allowed = allowedRedirect(deps.config, redirect);
  if (!allowed) throw appError("OAUTH_REDIRECT_INVALID");
  return allowed.toString();
}

/** `GET /oauth/<provider>/start?redirect=`: where to send the browser, and the cookie that binds the flow to it. */
export async function startSignIn(deps: OAuthDeps, name: string, redirect: string | null) {
  const provider = providerOf(deps, name);
  const target = redirectOf(deps, redirect);
  const browserSecret = newBrowserSecret();
  const { url, flowId } = await startFlow(deps, provider, callbackUrl(deps.config, name), target, { browserSecret });
  return { location: url.toString(), flowId, browserSecret };
}

/** `auth.linkOAuth`: the provider URL a signed-in user opens to link a provider to this account. */
export async function startLink(deps: OAuthDeps, owner: { userId: string; sessionId: string }, name: string, redirect: string): Promise<string> {
  const provider = providerOf(deps, name);
  const target = redirectOf(deps, redirect);
  const { url } = await startFlow(deps, provider, callbackUrl(deps.config, name), target, owner);
  return url.toString();
}

/** The cookie a flow's browser binding travels in. */
export function flowCookieName(flowId: string): string {
  return `gatehouse_oauth_${flowId}`;
}

/**
 * `GET /oauth/<provider>/callback`: where to send the browser. Throws only
 * OAUTH_PROVIDER_UNKNOWN and OAUTH_STATE_INVALID (no redirect to trust yet);
 * every later refusal goes back to the redirect as `error=<appCode>`.
 */
export async function finishCallback(
  deps: OAuthDeps,
  name: string,
  query: URLSearchParams,
  cookie: (name: string) => string | null,
  meta: RequestMeta,
): Promise<{ location: string; flowId: string }> {
  const provider = providerOf(deps, name);
  const state = query.get("state");
  const flowId = flowIdOf(state);
  const redirectUri = callbackUrl(deps.config, name);
  const flow = flowId === null ? null : await claimFlow(deps, name, state, cookie(flowCookieName(flowId)), redirectUri);
  if (!flow) throw appError("OAUTH_STATE_INVALID");
  try {
    const profile = await provider.profile(new URL(`${redirectUri}?${query}`), flow.request);
    if (flow.link) {
      await linkToUser(deps, flow.link, profile, meta);
      return { location: withParams(flow.redirect, { linked: name }), flowId: flow.id };
    }
    const code = await issueOAuthCode(deps.prisma, profile, deps.now());
    return { location: withParams(flow.redirect, { code }), flowId: flow.id };
  } catch (error) {
    if (error instanceof AppError) return { location: withParams(flow.redirect, { error: error.appCode }), flowId: flow.id };
    throw error;
  }
}
