/**
 * The client's error helpers read an error's shape, not its class: an error
 * thrown by another copy of `@trpc/client` (a second copy in a frontend's
 * bundle) is read the same way as one of ours.
 */
import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { appCodeOf, isGatehouseError } from "../packages/client/src/index.ts";

/** What another copy's TRPCClientError looks like to this one: same shape, another class. */
class OtherCopyTRPCClientError extends Error {
  readonly shape: unknown;
  readonly data: unknown;
  constructor(message: string, data: unknown) {
    super(message);
    this.name = "TRPCClientError";
    this.data = data;
    this.shape = { message, code: -32001, data };
  }
}

const wrongLogin = { code: "UNAUTHORIZED", httpStatus: 401, path: "auth.login", appCode: "INVALID_CREDENTIALS" };

describe("appCodeOf and isGatehouseError", () => {
  it("read the appCode of this copy's TRPCClientError", () => {
    const error = new TRPCClientError("Invalid email or password", { result: { error: { message: "Invalid email or password", code: -32001, data: wrongLogin } } });
    expect(appCodeOf(error)).toBe("INVALID_CREDENTIALS");
    expect(isGatehouseError(error, "INVALID_CREDENTIALS")).toBe(true);
  });

  it("read the appCode of another copy's TRPCClientError, which instanceof does not recognise", () => {
    const error = new OtherCopyTRPCClientError("Invalid email or password", wrongLogin);
    expect(error instanceof TRPCClientError).toBe(false);
    expect(appCodeOf(error)).toBe("INVALID_CREDENTIALS");
    expect(isGatehouseError(error)).toBe(true);
    expect(isGatehouseError(error, "INVALID_CREDENTIALS")).toBe(true);
    expect(isGatehouseError(error, "RATE_LIMITED")).toBe(false);
  });

  it("answer null and false for anything without an appCode", () => {
    for (const value of [new TypeError("Failed to fetch"), null, undefined, "INVALID_CREDENTIALS", { data: { appCode: 42 } }, { data: { appCode: "not a code" } }]) {
      expect(appCodeOf(value)).toBeNull();
      expect(isGatehouseError(value)).toBe(false);
    }
    // An appCode on something that is not an Error: appCodeOf reads it, isGatehouseError (an Error type guard) does not claim it.
    expect(appCodeOf({ data: { appCode: "RATE_LIMITED" } })).toBe("RATE_LIMITED");
    expect(isGatehouseError({ data: { appCode: "RATE_LIMITED" } })).toBe(false);
  });
});
