/**
 * Type-level guarantees of the client, checked by `npm run typecheck` (tsc over
 * tests/): every `@ts-expect-error` below must be an error, or tsc fails on the
 * unused directive. The vitest run only executes the `expectTypeOf` no-ops.
 */
import type { TRPCClient } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  appCodeOf,
  can,
  createGatehouseClient,
  isGatehouseError,
  isMfaChallenge,
  memoryTokenStore,
  type AppCode,
  type AppRouter,
  type AuthResult,
  type GatehouseClient,
  type LiveEvent,
  type LoginResult,
  type MfaChallenge,
  type RouterInputs,
  type RouterOutputs,
  type Me,
  type Permission,
  type TokenStore,
  type Tokens,
} from "../packages/client/src/index.ts";

/** Never called: these lines exist to be compiled. */
async function misuse(gh: GatehouseClient): Promise<void> {
  // @ts-expect-error a misspelt procedure does not exist
  await gh.auth.loginn.mutate({ email: "a@example.com", password: "x" });
  // @ts-expect-error a misspelt router does not exist
  await gh.uath.me.query();
  // @ts-expect-error login needs a password
  await gh.auth.login.mutate({ email: "a@example.com" });
  // @ts-expect-error email is a string, not a number
  await gh.auth.register.mutate({ email: 42, password: "long enough password", name: "A" });
  // @ts-expect-error a mutation has no .query
  await gh.auth.login.query({ email: "a@example.com", password: "x" });
  // @ts-expect-error a query has no .mutate
  await gh.auth.me.mutate();
  // @ts-expect-error refresh takes { refreshToken }, not the bare string
  await gh.auth.refresh.mutate("token");
  // @ts-expect-error the store holds a pair, not a bare access token
  memoryTokenStore().set("access-token");

  const result = await gh.auth.login.mutate({ email: "a@example.com", password: "x" });
  // @ts-expect-error a login result may be a second-factor challenge: narrow it first
  void result.accessToken;
  if (result.mfaRequired) {
    // @ts-expect-error a challenge carries no tokens
    void result.accessToken;
    const session = await gh.auth.verifyMfa.mutate({ mfaToken: result.mfaToken, code: "123456" });
    void session.accessToken;
  } else {
    void result.accessToken;
  }
  // @ts-expect-error verifyMfa needs the challenge's mfaToken
  await gh.auth.verifyMfa.mutate({ code: "123456" });

  const me = await gh.auth.me.query();
  void can(me, "users:write");
  // @ts-expect-error a misspelt permission does not compile
  void can(me, "user:write");
  // @ts-expect-error nor does one the catalogue lacks
  void can(me, "users:delete");
  // @ts-expect-error roles are not permissions
  void can(me, "admin");
}

describe("client types", () => {
  it("types inputs and outputs from AppRouter", () => {
    expectTypeOf(misuse).toBeFunction();
    const gh = createGatehouseClient({ url: "http://127.0.0.1:1/trpc" });
    expectTypeOf(gh.auth.login.mutate).parameter(0).toEqualTypeOf<{ email: string; password: string }>();
    expectTypeOf(gh.auth.me.query).returns.resolves.toEqualTypeOf<{
      id: string;
      email: string;
      name: string;
      emailVerified: boolean;
      createdAt: Date;
      twoFactorEnabled: boolean;
      roles: string[];
      permissions: Permission[];
      impersonatedBy: { id: string; email: string } | null;
    }>();
    expectTypeOf<Me>().toHaveProperty("permissions").toEqualTypeOf<Permission[]>();
    expectTypeOf<Permission>().toEqualTypeOf<"users:read" | "users:write" | "users:impersonate" | "audit:read" | "webhooks:manage">();
    expectTypeOf(can).parameter(1).toEqualTypeOf<Permission>();
    expect([can({ permissions: ["users:read"] }, "users:read"), can({ permissions: ["users:read"] }, "users:write"), can(null, "users:read")]).toEqual([
      true,
      false,
      false,
    ]);
    expectTypeOf(gh.auth.register.mutate).returns.resolves.toHaveProperty("accessToken").toEqualTypeOf<string>();
    expectTypeOf(gh.auth.register.mutate).returns.resolves.toHaveProperty("tokenType").toEqualTypeOf<"Bearer">();
    expectTypeOf(gh.auth.sessions.query).returns.resolves.items.toHaveProperty("lastUsedAt").toEqualTypeOf<Date>();
    expectTypeOf(gh.health.query).returns.resolves.toEqualTypeOf<{ status: "ok"; db: "ok" }>();
    expectTypeOf<Extract<LoginResult, { mfaRequired: true }>>().toEqualTypeOf<MfaChallenge>();
    expectTypeOf<MfaChallenge>().toEqualTypeOf<{
      mfaRequired: true;
      mfaToken: string;
      methods: ("totp" | "recovery_code" | "passkey")[];
      expiresIn: number;
    }>();
    expectTypeOf<Extract<LoginResult, { mfaRequired: false }>>().toHaveProperty("mfaRequired").toEqualTypeOf<false>();
    expectTypeOf<Extract<LoginResult, { mfaRequired: false }>>().toHaveProperty("user").toEqualTypeOf<AuthResult["user"]>();
    expectTypeOf<AuthResult>().toHaveProperty("accessToken").toEqualTypeOf<string>();
    expectTypeOf(isMfaChallenge).guards.toEqualTypeOf<MfaChallenge>();
    expectTypeOf(memoryTokenStore()).toEqualTypeOf<TokenStore>();
    expectTypeOf<TokenStore["get"]>().returns.toEqualTypeOf<Tokens | null>();
    expectTypeOf<Tokens>().toEqualTypeOf<{ accessToken: string; refreshToken: string }>();
  });

  it("spells the client's type as createTRPCClient<AppRouter> does, procedure by procedure", () => {
    expectTypeOf<RouterOutputs["auth"]["me"]>().toEqualTypeOf<inferRouterOutputs<AppRouter>["auth"]["me"]>();
    expectTypeOf<RouterOutputs["auth"]["login"]>().toEqualTypeOf<inferRouterOutputs<AppRouter>["auth"]["login"]>();
    expectTypeOf<RouterInputs["auth"]["register"]>().toEqualTypeOf<inferRouterInputs<AppRouter>["auth"]["register"]>();
    expectTypeOf<RouterInputs["passkey"]["authenticate"]>().toEqualTypeOf<inferRouterInputs<AppRouter>["passkey"]["authenticate"]>();
    type Trpc = TRPCClient<AppRouter>;
    type Ours = ReturnType<typeof createGatehouseClient>;
    expectTypeOf<Awaited<ReturnType<Ours["auth"]["sessions"]["query"]>>>().toEqualTypeOf<Awaited<ReturnType<Trpc["auth"]["sessions"]["query"]>>>();
    expectTypeOf<Awaited<ReturnType<Ours["mfa"]["totpSetup"]["mutate"]>>>().toEqualTypeOf<Awaited<ReturnType<Trpc["mfa"]["totpSetup"]["mutate"]>>>();
    expectTypeOf<Parameters<Ours["auth"]["login"]["mutate"]>[0]>().toEqualTypeOf<Parameters<Trpc["auth"]["login"]["mutate"]>[0]>();
    type OursEvent = Parameters<NonNullable<Parameters<Ours["auth"]["events"]["subscribe"]>[1]["onData"]>>[0];
    expectTypeOf<OursEvent>().toEqualTypeOf<{ id: string; data: LiveEvent }>();
  });

  it("narrows an error to the AppCode union", () => {
    const err: unknown = new Error("x");
    expectTypeOf(appCodeOf(err)).toEqualTypeOf<AppCode | null>();
    if (isGatehouseError(err, "INVALID_CREDENTIALS")) expectTypeOf(err.data.appCode).toEqualTypeOf<"INVALID_CREDENTIALS">();
    if (isGatehouseError(err)) expectTypeOf(err.data.appCode).toEqualTypeOf<AppCode>();
    // @ts-expect-error not an appCode of the catalogue
    isGatehouseError(err, "WRONG_PASSWORD");
  });
});
