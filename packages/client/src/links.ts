/**
 * The chain of tRPC links behind the client: store the pair a session
 * procedure returns, refresh an expired access token once (coordinated across
 * tabs), clear the store on revocation, and send calls over HTTP (batched) or
 * server-sent events (subscriptions), with superjson.
 */
import { createTRPCClient, httpBatchLink, httpLink, httpSubscriptionLink, splitLink, type TRPCLink } from "@trpc/client";
import superjson from "superjson";
import { crossTabRefresh } from "./cross-tab.ts";
import { HeaderEventSource } from "./event-source.ts";
import type { GatehouseClientOptions } from "./options.ts";
import { revocationLink } from "./live-events.ts";
import { refreshLink, tokenStoreLink } from "./refresh-link.ts";
import type { AppRouter } from "./server-types.ts";
import { memoryTokenStore } from "./token-store.ts";

/**
 * The links of the Gatehouse client, for a client of your own: for example the
 * one `@trpc/tanstack-react-query` takes,
 * `createTRPCClient<AppRouter>({ links: gatehouseLinks({ url, tokens }) })`.
 * They keep `tokens` up to date, send the bearer token and refresh expired
 * access tokens, exactly as `createGatehouseClient` does.
 */
export function gatehouseLinks({
  url,
  tokens = memoryTokenStore(),
  fetch,
  headers,
  crossTab = (globalThis as { document?: unknown }).document !== undefined,
}: GatehouseClientOptions): TRPCLink<AppRouter>[] {
  const withBearer = () => {
    const accessToken = tokens.get()?.accessToken;
    return { ...headers?.(), ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}) };
  };
  // Refreshes go out on their own, unbatched and outside the refresh link, so
  // they can neither wait on themselves nor be retried.
  const refresher = createTRPCClient<AppRouter>({
    links: [httpLink({ url, transformer: superjson, fetch, headers: () => ({ ...headers?.() }) })],
  });
  return [
    tokenStoreLink<AppRouter>(tokens),
    refreshLink<AppRouter>({
      tokens,
      coordinator: crossTab === false ? undefined : crossTabRefresh(typeof crossTab === "string" ? crossTab : `gatehouse:${url}`, tokens),
      refresh: async (refreshToken) => {
        const { accessToken, refreshToken: next } = await refresher.auth.refresh.mutate({ refreshToken });
        return { accessToken, refreshToken: next };
      },
    }),
    revocationLink<AppRouter>(tokens),
    splitLink({
      condition: (op) => op.type === "subscription",
      // Server-sent events with the bearer token in a header, read from the
      // store on every (re)connection, never in the URL (./event-source.ts).
      true: httpSubscriptionLink({
        url,
        transformer: superjson,
        EventSource: HeaderEventSource as unknown as typeof EventSource,
        eventSourceOptions: () => ({ headers: withBearer, fetch }) as EventSourceInit,
      }),
      false: httpBatchLink({ url, transformer: superjson, fetch, headers: withBearer }),
    }),
  ];
}
