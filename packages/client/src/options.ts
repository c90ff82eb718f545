/** What `createGatehouseClient` and `gatehouseLinks` take. */
import type { TokenStore } from "./token-store.ts";

export interface GatehouseClientOptions {
  /** The tRPC endpoint, e.g. `http://127.0.0.1:3000/trpc` (or `/trpc` on the same origin). */
  url: string;
  /** Where the token pair lives; defaults to a fresh `memoryTokenStore()`. */
  tokens?: TokenStore;
  /** A `fetch` of your own (instrumentation, credentials, tests); defaults to the global one. */
  fetch?: typeof globalThis.fetch;
  /** Extra headers sent with every request (the bearer header is added from the store). */
  headers?: () => Record<string, string>;
  /**
   * Coordinate refreshes with the other tabs of this origin (Web Locks plus a
   * BroadcastChannel of the new pair, ./cross-tab.ts): `true` by default in a
   * browser page, `false` elsewhere; a string names the channel and lock
   * (default `gatehouse:<url>`).
   */
  crossTab?: boolean | string;
}
