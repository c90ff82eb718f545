/**
 * Authorization requests in flight, kept server-side (RFC 9700 section
 * 2.1: PKCE, state, nonce). The `state` sent to the provider is an opaque
 * `id.secret` token of which only a SHA-256 is stored; the PKCE verifier and
 * the nonce are sealed with ENCRYPTION_KEY, bound to the row. A flow lives
 * 10 minutes and is claimed once, by a conditional update.
 *
 * A sign-in flow is also bound to the browser that started it: `/start` sets
 * a cookie whose SHA-256 the row keeps, and the callback must present it, so a
 * callback URL sent to someone else's browser (login CSRF, RFC 6749 section
 * 10.12) is refused. A link flow is bound to the signed-in user and session
 * that asked for it instead (`auth.linkOAuth`).
 */
import { randomBytes } from "node:crypto";
import type { PrismaClient } from "../db/database.ts";
import type { Sealer } from "../secrets/sealer.ts";
import { hashSecret, issueOpaqueToken, parseOpaqueToken, secretMatches } from "../tokens/opaque-token.ts";
import type { AuthorizationRequest, OAuthProvider } from "./provider.ts";

export const FLOW_TTL_SECONDS = 10 * 60;

export interface FlowDeps {
  prisma: Pick<PrismaClient, "oAuthFlow">;
  sealer: Sealer;
  now: () => Date;
}

/** Who a flow is for: a browser signing in, or a signed-in user linking a provider. */
export type FlowOwner = { browserSecret: string } | { userId: string; sessionId: string };

/** A fresh random secret for the browser-binding cookie. */
export function newBrowserSecret(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Builds the provider's authorization URL and stores the flow. The provider
 * is asked first: when it cannot be reached nothing is stored.
 */
export async function startFlow(
  deps: FlowDeps,
  provider: OAuthProvider,
  redirectUri: string,
  redirect: string,
  owner: FlowOwner,
): Promise<{ url: URL; flowId: string }> {
  const state = issueOpaqueToken();
  const request: AuthorizationRequest = {
    state: state.token,
    codeVerifier: randomBytes(32).toString("base64url"),
    nonce: randomBytes(16).toString("base64url"),
    redirectUri,
  };
  const url = await provider.authorizationUrl(request);
  const now = deps.now();
  // Expired flows go as new ones start, so the table stays small.
  await deps.prisma.oAuthFlow.deleteMany({ where: { expiresAt: { lte: now } } });
  await deps.prisma.oAuthFlow.create({
    data: {
      id: state.id,
      stateHash: state.secretHash,
      browserHash: "browserSecret" in owner ? hashSecret(owner.browserSecret) : null,
      provider: provider.name,
      sealed: deps.sealer.seal(JSON.stringify({ codeVerifier: request.codeVerifier, nonce: request.nonce }), `oauth-flow:${state.id}`),
      redirect,
      userId: "userId" in owner ? owner.userId : null,
      sessionId: "sessionId" in owner ? owner.sessionId : null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + FLOW_TTL_SECONDS * 1000),
    },
  });
  return { url, flowId: state.id };
}

/** A claimed flow: the request to check the callback against, where to send the browser, and for a link, whose it is. */
export interface ClaimedFlow {
  id: string;
  request: AuthorizationRequest;
  redirect: string;
  link: { userId: string; sessionId: string } | null;
}

/** The flow's id named by a state, for the browser-binding cookie's name; null when not of our shape. */
export function flowIdOf(state: string | null): string | null {
  return state === null ? null : (parseOpaqueToken(state)?.id ?? null);
}

/**
 * Claims the flow a callback's `state` names, once: null when the state is
 * unknown, tampered, of another provider, expired, already used, or (for a
 * sign-in) presented without the cookie of the browser that started it.
 */
export async function claimFlow(
  deps: FlowDeps,
  provider: string,
  state: string | null,
  browserSecret: string | null,
  redirectUri: string,
): Promise<ClaimedFlow | null> {
  const parsed = state === null ? null : parseOpaqueToken(state);
  if (!parsed) return null;
  const row = await deps.prisma.oAuthFlow.findUnique({ where: { id: parsed.id } });
  if (!row || row.provider !== provider || !secretMatches(parsed.secret, row.stateHash)) return null;
  if (row.browserHash !== null ? browserSecret === null || !secretMatches(browserSecret, row.browserHash) : row.userId === null) return null;
  const now = deps.now();
  const { count } = await deps.prisma.oAuthFlow.updateMany({
    where: { id: row.id, usedAt: null, expiresAt: { gt: now } },
    data: { usedAt: now },
  });
  if (count !== 1) return null;
  const { codeVerifier, nonce } = JSON.parse(deps.sealer.open(row.sealed, `oauth-flow:${row.id}`)) as { codeVerifier: string; nonce: string };
  return {
    id: row.id,
    request: { state: state!, codeVerifier, nonce, redirectUri },
    redirect: row.redirect,
    link: row.userId !== null && row.sessionId !== null ? { userId: row.userId, sessionId: row.sessionId } : null,
  };
}
