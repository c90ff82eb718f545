/** The one helper that asserts errors: tRPC code and appCode. */
import { TRPCError } from "@trpc/server";
import { expect } from "vitest";
import { appCodeOf, type AppCode } from "../../server/errors.ts";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";

/** Awaits a promise that must reject with the given tRPC code and appCode; returns the error. */
export async function expectTRPCError(
  promise: Promise<unknown>,
  code: TRPC_ERROR_CODE_KEY,
  appCode: AppCode,
): Promise<TRPCError> {
  const error = await promise.then(
    (value) => {
      throw new Error(`expected ${code}/${appCode}, got a result: ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  const trpcError = error as TRPCError;
  expect({ code: trpcError.code, appCode: appCodeOf(trpcError) }).toEqual({ code, appCode });
  return trpcError;
}
