/**
 * `auth.events` on the client: the link that clears the token store when the
 * server says this client's own session was revoked (or refuses the stream
 * because it already was), and `onAuthEvent`, the short way to listen.
 */
import { TRPCClientError, type TRPCLink } from "@trpc/client";
import type { AnyTRPCRouter } from "@trpc/server";
import { observable } from "@trpc/server/observable";
import type { TokenStore } from "./token-store.ts";

const EVENTS_PATH = "auth.events";

function isOwnRevocation(data: unknown): boolean {
  const event = (data as { data?: { type?: unknown; current?: unknown } } | undefined)?.data;
  return event?.type === "session_revoked" && event.current === true;
}

/** Clears `tokens` on `session_revoked` with `current: true`, and on a stream refused with SESSION_REVOKED. */
export function revocationLink<TRouter extends AnyTRPCRouter>(tokens: TokenStore): TRPCLink<TRouter> {
  return () =>
    ({ op, next }) => {
      if (op.path !== EVENTS_PATH) return next(op);
      return observable((observer) =>
        next(op).subscribe({
          next(envelope) {
            const result = envelope.result;
            if ("data" in result && isOwnRevocation(result.data)) tokens.set(null);
            observer.next(envelope);
          },
          error(error) {
            const appCode = error instanceof TRPCClientError ? (error.data as { appCode?: unknown } | undefined)?.appCode : undefined;
            if (appCode === "SESSION_REVOKED") tokens.set(null);
            observer.error(error);
          },
          complete: () => observer.complete(),
        }),
      );
    };
}
