/**
 * The links that keep the token store in step with the server:
 *
 * - `tokenStoreLink` stores the pair returned by the procedures that open or
 *   rotate a session, and clears the store when the session ends;
 * - `refreshLink` answers `TOKEN_EXPIRED` by refreshing once and retrying the
 *   call. Calls that expire together share one refresh, because a refresh
 *   token is single use: a second refresh with the same token would be taken
 *   for a replay and revoke the session (docs/API.md).
 */
import { TRPCClientError, type TRPCLink } from "@trpc/client";
import type { AnyTRPCRouter } from "@trpc/server";
import { observable, type Unsubscribable } from "@trpc/server/observable";
import { localRefresh, type RefreshCoordinator } from "./cross-tab.ts";
import type { TokenStore, Tokens } from "./token-store.ts";

/**
 * Procedures whose result may be a fresh `AuthResult` to keep. `auth.login`
 * may answer a second-factor challenge instead, which carries no tokens and
 * is not stored (`isTokens` below); the session comes from `auth.verifyMfa`.
 */
const STORES_RESULT = new Set([
  "auth.register",
  "auth.login",
  "auth.verifyMfa",
  "auth.refresh",
  "auth.changePassword",
  "passkey.authenticate",
]);
/** Procedures after which the stored pair is dead. */
const CLEARS_STORE = new Set(["auth.logout", "auth.logoutAll", "auth.deleteAccount"]);
/**
 * Logging out with a session the server already refuses (401) still ends it
 * locally. Not `deleteAccount`: a wrong password leaves the account (and
 * session) in place.
 */
const CLEARS_STORE_ON_401 = new Set(["auth.logout", "auth.logoutAll"]);

function isTokens(value: unknown): value is Tokens {
  if (typeof value !== "object" || value === null) return false;
  const { accessToken, refreshToken } = value as Record<string, unknown>;
  return typeof accessToken === "string" && typeof refreshToken === "string";
}

function appCodeOf(error: unknown): unknown {
  return error instanceof TRPCClientError ? (error.data as { appCode?: unknown } | undefined)?.appCode : undefined;
}

function httpStatusOf(error: unknown): unknown {
  return error instanceof TRPCClientError ? (error.data as { httpStatus?: unknown } | undefined)?.httpStatus : undefined;
}

/** Keeps the store in step with the results of the session procedures. */
export function tokenStoreLink<TRouter extends AnyTRPCRouter>(tokens: TokenStore): TRPCLink<TRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) =>
        next(op).subscribe({
          next(envelope) {
            const result = envelope.result;
            const data = "data" in result ? result.data : undefined;
            if (STORES_RESULT.has(op.path) && isTokens(data)) {
              tokens.set({ accessToken: data.accessToken, refreshToken: data.refreshToken });
            } else if (CLEARS_STORE.has(op.path)) {
              tokens.set(null);
            }
            observer.next(envelope);
          },
          error(error) {
            if (CLEARS_STORE_ON_401.has(op.path) && httpStatusOf(error) === 401) tokens.set(null);
            observer.error(error);
          },
          complete() {
            observer.complete();
          },
        }),
      );
}

export interface RefreshLinkOptions {
  tokens: TokenStore;
  /** Exchanges a refresh token for a new pair; its failure is what the original call fails with. */
  refresh(refreshToken: string): Promise<Tokens>;
  /** Coordinates the refresh with other tabs (./cross-tab.ts); default: this page only. */
  coordinator?: RefreshCoordinator;
}

/** On `TOKEN_EXPIRED`: one shared refresh, then one retry of each expired call. */
export function refreshLink<TRouter extends AnyTRPCRouter>({
  tokens,
  refresh,
  coordinator = localRefresh,
}: RefreshLinkOptions): TRPCLink<TRouter> {
  let inFlight: Promise<void> | null = null;

  /** Starts a refresh, or joins the one already running. */
  function renew(): Promise<void> {
    inFlight ??= (async () => {
      try {
        const current = tokens.get();
        if (!current) throw new TRPCClientError("Signed out while the access token was being renewed");
        const next = await coordinator.renew(current, refresh);
        // Another tab's broadcast may have stored this very pair already.
        const held = tokens.get();
        if (held?.accessToken !== next.accessToken || held.refreshToken !== next.refreshToken) tokens.set(next);
      } catch (error) {
        tokens.set(null);
        throw error;
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  }

  return () =>
    ({ op, next }) =>
      observable((observer) => {
        let subscription: Unsubscribable | undefined;
        let disposed = false;

        function attempt(retry: boolean): void {
          // The token this call goes out with (the batch link reads the store in the same tick).
          const sentWith = tokens.get()?.accessToken;
          subscription = next(op).subscribe({
            next: (envelope) => observer.next(envelope),
            complete: () => observer.complete(),
            error(error) {
              // Without a stored pair there is nothing to refresh with (signed out meanwhile).
              if (retry || op.path === "auth.refresh" || appCodeOf(error) !== "TOKEN_EXPIRED" || !tokens.get()) {
                observer.error(error);
                return;
              }
              const current = tokens.get()?.accessToken;
              // Another call already refreshed while this one was on the wire: just retry.
              const renewed = current !== undefined && current !== sentWith ? Promise.resolve() : renew();
              renewed.then(
                () => {
                  if (!disposed) attempt(true);
                },
                (refreshError: unknown) => observer.error(TRPCClientError.from(refreshError as Error)),
              );
            },
          });
        }

        attempt(false);
        return () => {
          disposed = true;
          subscription?.unsubscribe();
        };
      });
}
