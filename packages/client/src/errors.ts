/**
 * Reading a Gatehouse error on the client. The helpers look at the error's
 * shape, not its class: a frontend's bundle may hold another copy of
 * `@trpc/client` than the one that threw, and `instanceof TRPCClientError`
 * is then false for a perfectly good error.
 *
 * ```ts
 * try {
 *   await gh.auth.login.mutate({ email, password });
 * } catch (err) {
 *   if (isGatehouseError(err, "INVALID_CREDENTIALS")) showError("Wrong email or password");
 *   else if (appCodeOf(err) === "RATE_LIMITED") showError("Slow down");
 *   else throw err;
 * }
 * ```
 */
import type { AppCode } from "./server-types.ts";

/** What the server puts in `error.data` (docs/API.md, "Errors"). */
export interface GatehouseErrorData<C extends AppCode = AppCode> {
  appCode: C;
  /** tRPC's code, e.g. `UNAUTHORIZED`. */
  code: string;
  httpStatus: number;
  /** The procedure, e.g. `auth.login`. */
  path?: string;
  /** With `VALIDATION_FAILED`: the messages for each field. */
  fieldErrors?: Record<string, string[]>;
}

/** A client error that carries a Gatehouse appCode (a `TRPCClientError` from any copy of `@trpc/client`). */
export interface GatehouseError<C extends AppCode = AppCode> extends Error {
  data: GatehouseErrorData<C>;
}

function dataOf(err: unknown): { appCode?: unknown } | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const { data, shape } = err as { data?: unknown; shape?: { data?: unknown } };
  const found = data ?? shape?.data;
  return typeof found === "object" && found !== null ? (found as { appCode?: unknown }) : undefined;
}

/** The appCode of an error thrown by a Gatehouse call, or `null` for anything else (a network failure, a bug). */
export function appCodeOf(err: unknown): AppCode | null {
  const appCode = dataOf(err)?.appCode;
  return typeof appCode === "string" && /^[A-Z][A-Z_]*$/.test(appCode) ? (appCode as AppCode) : null;
}

/** Whether `err` is a Gatehouse error (with `code`: one with that appCode); narrows `err.data.appCode`. */
export function isGatehouseError<C extends AppCode = AppCode>(err: unknown, code?: C): err is GatehouseError<C> {
  const appCode = appCodeOf(err);
  return err instanceof Error && appCode !== null && (code === undefined || appCode === code);
}
