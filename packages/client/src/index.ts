/**
 * The typed Gatehouse client for TypeScript frontends (docs/API.md):
 * `@trpc/client` over `httpBatchLink` with superjson, typed by `AppRouter`,
 * sending the bearer token from a `TokenStore` and refreshing it by itself.
 *
 * ```ts
 * const tokens = memoryTokenStore();
 * const gh = createGatehouseClient({ url: "http://127.0.0.1:3000/trpc", tokens });
 * const result = await gh.auth.login.mutate({ email, password });
 * if (result.mfaRequired) {
 *   // Second step: nothing is stored until it succeeds.
 *   await gh.auth.verifyMfa.mutate({ mfaToken: result.mfaToken, code }); // stores the pair
 * }
 * const me = await gh.auth.me.query(); // bearer from the store, refreshed when expired
 * ```
 */
import { createTRPCClient } from "@trpc/client";
import { appCodeOf, isGatehouseError, type GatehouseError, type GatehouseErrorData } from "./errors.ts";
import { gatehouseLinks } from "./links.ts";
import type { GatehouseClientOptions } from "./options.ts";
import type { AppCode, AppRouter, LiveEvent, Permission, Role } from "./server-types.ts";
import { memoryTokenStore, type TokenStore, type Tokens } from "./token-store.ts";
import type { DecorateRecord, GatehouseRequestOptions, GatehouseSubscriptionOptions, InputsOf, OutputsOf, Unsubscribable } from "./typed-client.ts";

export type {
  GatehouseClientOptions,
  AppCode,
  AppRouter,
  GatehouseError,
  GatehouseErrorData,
  GatehouseRequestOptions,
  GatehouseSubscriptionOptions,
  LiveEvent,
  Permission,
  Role,
  TokenStore,
  Tokens,
  Unsubscribable,
};
export { appCodeOf, isGatehouseError, memoryTokenStore };

/** What each procedure answers: `RouterOutputs["auth"]["me"]`. */
export type RouterOutputs = OutputsOf<AppRouter["_def"]["record"]>;
/** What each procedure takes: `RouterInputs["auth"]["register"]`. */
export type RouterInputs = InputsOf<AppRouter["_def"]["record"]>;
type Outputs = RouterOutputs;
/** What `auth.login` answers: a session (`mfaRequired: false`) or a second-factor challenge. */
export type LoginResult = Outputs["auth"]["login"];
/** The second step a sign-in needs: pass `mfaToken` and a code to `auth.verifyMfa` (or sign in with a passkey). */
export type MfaChallenge = Extract<LoginResult, { mfaRequired: true }>;
/** A session: what register, verifyMfa, refresh, changePassword and passkey.authenticate answer. */
export type AuthResult = Outputs["auth"]["verifyMfa"];

/** What `auth.me` answers: the user with its `roles`, `permissions` and, when impersonated, `impersonatedBy`. */
export type Me = Outputs["auth"]["me"];

/**
 * Whether the signed-in user holds a permission of the server's catalogue,
 * e.g. `can(me, "users:write")` to show an admin control. A name the
 * catalogue lacks does not compile. The server checks again on every call.
 */
export function can(me: { permissions: readonly Permission[] } | null | undefined, permission: Permission): boolean {
  return me?.permissions.includes(permission) ?? false;
}

/** Narrows a login result to the second-factor challenge. */
export function isMfaChallenge(result: LoginResult): result is MfaChallenge {
  return result.mfaRequired;
}

/** The client: `gh.auth.login.mutate(...)`, `gh.auth.me.query()`, ... typed end to end. */
export type GatehouseClient = DecorateRecord<AppRouter["_def"]["record"]>;


/**
 * Listens to the signed-in user's live events until the returned
 * subscription is unsubscribed. The stream resumes by itself after a dropped
 * connection; the store is cleared when this session is revoked.
 */
export function onAuthEvent(gh: GatehouseClient, listener: (event: LiveEvent) => void, onError?: (error: unknown) => void): Unsubscribable {
  return gh.auth.events.subscribe(undefined, { onData: (tracked) => listener(tracked.data), onError });
}

/** Creates a client that keeps `tokens` up to date and refreshes expired access tokens. */
export function createGatehouseClient(options: GatehouseClientOptions): GatehouseClient {
  const client = createTRPCClient<AppRouter>({ links: gatehouseLinks(options) });
  // The same object, under the client's own spelling of its type (./typed-client.ts).
  return client as unknown as GatehouseClient;
}
