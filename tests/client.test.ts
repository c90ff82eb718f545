/**
 * The published client (`gatehouse/client`, docs/API.md) against the real
 * server: tokens stored and cleared by the session procedures, and expired
 * access tokens refreshed once, shared by the calls that expired together.
 *
 * Access tokens live 1 s, and the server tolerates 5 s of clock skew, so "waiting
 * for expiry" moves the server's clock forward instead of sleeping
 * (`examples/frontend.ts`, run by tests/example.test.ts, waits for real).
 */
import { TRPCClientError } from "@trpc/client";
import { beforeAll, describe, expect, it } from "vitest";
import { createGatehouseClient, isMfaChallenge, memoryTokenStore, type AppRouter, type TokenStore } from "../packages/client/src/index.ts";
import { createServices, type Services } from "../server/services.ts";
import { newAccount, signedIn } from "./helpers/caller.ts";
import { openTestDatabase, silentLog } from "./helpers/database.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { testConfig } from "./helpers/services.ts";
import { totpCode } from "./helpers/totp.ts";

/** Past the access token's 1 s lifetime and the verifier's 5 s skew allowance. */
const PAST_EXPIRY_SECONDS = 7;

let offsetMs = 0;
/** Moves the server's clock forward, as waiting would. */
function waitForExpiry(): void {
  offsetMs += PAST_EXPIRY_SECONDS * 1000;
}

let services: Services;
let url: string;

beforeAll(async () => {
  const db = await openTestDatabase();
  services = await createServices(testConfig({ ACCESS_TOKEN_TTL: "1s" }), {
    db,
    log: silentLog,
    now: () => new Date(Date.now() + offsetMs),
  });
  url = `${(await startTestServer(services)).url}/trpc`;
});

/** A client whose requests are counted by procedure; `hold` delays refreshes until released. */
function instrumentedClient(tokens: TokenStore = memoryTokenStore()) {
  const calls: string[] = [];
  let releaseRefresh: (() => void) | null = null;
  let refreshGate: Promise<void> | null = null;
  const countingFetch: typeof fetch = async (input, init) => {
    const path = new URL(String(input instanceof Request ? input.url : input)).pathname.replace("/trpc/", "");
    calls.push(...path.split(","));
    if (path === "auth.refresh" && refreshGate) await refreshGate;
    return fetch(input, init);
  };
  return {
    gh: createGatehouseClient({ url, tokens, fetch: countingFetch }),
    tokens,
    refreshCalls: () => calls.filter((p) => p === "auth.refresh").length,
    holdRefreshes() {
      refreshGate = new Promise((resolve) => (releaseRefresh = resolve));
    },
    releaseRefreshes() {
      releaseRefresh?.();
      refreshGate = null;
    },
  };
}

function appCodeOf(error: unknown) {
  expect(error).toBeInstanceOf(TRPCClientError);
  return (error as TRPCClientError<AppRouter>).data?.appCode;
}

describe("token store", () => {
  it("stores nothing from a second-factor challenge, and the pair from auth.verifyMfa", async () => {
    const { gh, tokens } = instrumentedClient();
    const account = newAccount();
    await gh.auth.register.mutate(account);
    const { secret } = await gh.mfa.totpSetup.mutate({ password: account.password });
    const { recoveryCodes } = await gh.mfa.totpEnable.mutate({ code: totpCode(secret, services.now()) });
    await gh.auth.logout.mutate();
    expect(tokens.get()).toBeNull();

    const result = await gh.auth.login.mutate({ email: account.email, password: account.password });
    expect(isMfaChallenge(result)).toBe(true);
    if (!isMfaChallenge(result)) throw new Error("expected a second-factor challenge");
    expect(tokens.get()).toBeNull();
    await expect(gh.auth.me.query()).rejects.toSatisfy((e) => appCodeOf(e) === "TOKEN_MISSING");

    const session = await gh.auth.verifyMfa.mutate({ mfaToken: result.mfaToken, code: recoveryCodes[0]! });
    expect(tokens.get()).toEqual({ accessToken: session.accessToken, refreshToken: session.refreshToken });
    expect((await gh.auth.me.query()).twoFactorEnabled).toBe(true);
  });

  it("stores the pair from register and login, and sends it as the bearer token", async () => {
    const { gh, tokens } = instrumentedClient();
    const account = newAccount();
    const registered = await gh.auth.register.mutate(account);
    expect(tokens.get()).toEqual({ accessToken: registered.accessToken, refreshToken: registered.refreshToken });
    const me = await gh.auth.me.query();
    expect(me).toEqual({ ...registered.user, permissions: [], impersonatedBy: null });
    expect(me.createdAt).toBeInstanceOf(Date);

    const loggedIn = signedIn(await gh.auth.login.mutate({ email: account.email, password: account.password }));
    expect(tokens.get()).toEqual({ accessToken: loggedIn.accessToken, refreshToken: loggedIn.refreshToken });
    const sessions = await gh.auth.sessions.query();
    expect(sessions.find((s) => s.current)?.id).not.toBeUndefined();
    expect(sessions).toHaveLength(2);
  });

  it("reads the store on every request, so a pair put there by hand is used", async () => {
    const { gh: other } = instrumentedClient();
    const registered = await other.auth.register.mutate(newAccount());
    const tokens = memoryTokenStore();
    const { gh } = instrumentedClient(tokens);
    await expect(gh.auth.me.query()).rejects.toSatisfy((e) => appCodeOf(e) === "TOKEN_MISSING");
    tokens.set({ accessToken: registered.accessToken, refreshToken: registered.refreshToken });
    expect((await gh.auth.me.query()).id).toBe(registered.user.id);
  });

  it("stores the pair of an explicit auth.refresh", async () => {
    const { gh, tokens } = instrumentedClient();
    const registered = await gh.auth.register.mutate(newAccount());
    const refreshed = await gh.auth.refresh.mutate({ refreshToken: registered.refreshToken });
    expect(tokens.get()).toEqual({ accessToken: refreshed.accessToken, refreshToken: refreshed.refreshToken });
  });

  it("clears the store on logout and logoutAll", async () => {
    const { gh, tokens } = instrumentedClient();
    await gh.auth.register.mutate(newAccount());
    await gh.auth.logout.mutate();
    expect(tokens.get()).toBeNull();
    await expect(gh.auth.me.query()).rejects.toSatisfy((e) => appCodeOf(e) === "TOKEN_MISSING");

    const account = newAccount();
    await gh.auth.register.mutate(account);
    expect(await gh.auth.logoutAll.mutate()).toEqual({ revoked: 1 });
    expect(tokens.get()).toBeNull();
  });

  it("stores the pair from changePassword; deleteAccount clears it, but not on a wrong password", async () => {
    const { gh, tokens } = instrumentedClient();
    const account = newAccount();
    await gh.auth.register.mutate(account);
    const changed = await gh.auth.changePassword.mutate({ currentPassword: account.password, newPassword: "an entirely new passphrase" });
    expect(tokens.get()).toEqual({ accessToken: changed.accessToken, refreshToken: changed.refreshToken });

    const before = tokens.get();
    await expect(gh.auth.deleteAccount.mutate({ password: account.password })).rejects.toSatisfy((e) => appCodeOf(e) === "CURRENT_PASSWORD_INVALID");
    expect(tokens.get()).toEqual(before);
    expect(await gh.auth.deleteAccount.mutate({ password: "an entirely new passphrase" })).toEqual({ success: true });
    expect(tokens.get()).toBeNull();
  });

  it("clears the store on logout even when the session is already gone (401)", async () => {
    const { gh, tokens } = instrumentedClient();
    const { gh: other } = instrumentedClient();
    const account = newAccount();
    await gh.auth.register.mutate(account);
    await other.auth.login.mutate({ email: account.email, password: account.password });
    await other.auth.logoutAll.mutate();
    await expect(gh.auth.logout.mutate()).rejects.toSatisfy((e) => appCodeOf(e) === "SESSION_REVOKED");
    expect(tokens.get()).toBeNull();
  });

  it("keeps the store when a call fails for another reason", async () => {
    const { gh, tokens } = instrumentedClient();
    await gh.auth.register.mutate(newAccount());
    const before = tokens.get();
    await expect(gh.auth.revokeSession.mutate({ sessionId: "not-a-session" })).rejects.toSatisfy((e) => appCodeOf(e) === "NOT_FOUND");
    expect(tokens.get()).toEqual(before);
  });
});

describe("refresh on TOKEN_EXPIRED", () => {
  it("refreshes once and retries: register, me, wait for expiry, me again", async () => {
    const { gh, tokens, refreshCalls } = instrumentedClient();
    const registered = await gh.auth.register.mutate(newAccount());
    expect(registered.expiresIn).toBe(1);
    expect((await gh.auth.me.query()).id).toBe(registered.user.id);

    waitForExpiry();
    const me = await gh.auth.me.query();
    expect(me.id).toBe(registered.user.id);
    expect(refreshCalls()).toBe(1);
    const renewed = tokens.get()!;
    expect(renewed.accessToken).not.toBe(registered.accessToken);
    expect(renewed.refreshToken).not.toBe(registered.refreshToken);

    // The new pair is the live one: the next call needs no refresh.
    await gh.auth.me.query();
    expect(refreshCalls()).toBe(1);
  });

  it("shares one refresh between calls that expire in the same batch", async () => {
    const { gh, refreshCalls } = instrumentedClient();
    await gh.auth.register.mutate(newAccount());
    waitForExpiry();
    const [me, sessions, again, health] = await Promise.all([
      gh.auth.me.query(),
      gh.auth.sessions.query(),
      gh.auth.me.query(),
      gh.health.query(),
    ]);
    expect(me).toEqual(again);
    expect(sessions).toHaveLength(1);
    expect(health).toEqual({ status: "ok", db: "ok" });
    expect(refreshCalls()).toBe(1);
  });

  it("makes a call that expires while a refresh is under way wait for that refresh", async () => {
    const client = instrumentedClient();
    const { gh, refreshCalls } = client;
    await gh.auth.register.mutate(newAccount());
    waitForExpiry();
    client.holdRefreshes();
    const first = gh.auth.me.query();
    await expect.poll(refreshCalls).toBe(1);
    // Sent with the old token while the refresh is held: it expires too, and joins.
    const second = gh.auth.sessions.query();
    // A read, not logoutAll: the retried calls run concurrently, and a revocation could beat the listing.
    const third = gh.auth.activity.query();
    await new Promise((resolve) => setTimeout(resolve, 200));
    client.releaseRefreshes();
    expect((await first).email).toContain("@example.com");
    expect(await second).toHaveLength(1);
    expect((await third).map((event) => event.type)).toContain("register");
    expect(refreshCalls()).toBe(1);
  });

  it("clears the store and fails with the refresh's error when the refresh fails", async () => {
    const phone = instrumentedClient();
    const laptop = instrumentedClient();
    const account = newAccount();
    await phone.gh.auth.register.mutate(account);
    await laptop.gh.auth.login.mutate({ email: account.email, password: account.password });
    const phoneSession = (await phone.gh.auth.sessions.query()).find((s) => s.current)!;
    // The laptop signs the phone out; the phone only learns it once its access token expires.
    await laptop.gh.auth.revokeSession.mutate({ sessionId: phoneSession.id });

    waitForExpiry();
    const error = await phone.gh.auth.me.query().catch((e: unknown) => e);
    expect(appCodeOf(error)).toBe("REFRESH_TOKEN_INVALID");
    expect((error as TRPCClientError<AppRouter>).data?.path).toBe("auth.refresh");
    expect(phone.tokens.get()).toBeNull();
    expect(phone.refreshCalls()).toBe(1);

    // The laptop's own session is untouched and refreshes normally.
    expect((await laptop.gh.auth.me.query()).email).toBe(account.email);
    expect(laptop.refreshCalls()).toBe(1);
  });

  it("does not refresh for other 401s", async () => {
    const tokens = memoryTokenStore({ accessToken: "not-a-jwt", refreshToken: "x.y" });
    const { gh, refreshCalls } = instrumentedClient(tokens);
    await expect(gh.auth.me.query()).rejects.toSatisfy((e) => appCodeOf(e) === "TOKEN_INVALID");
    expect(refreshCalls()).toBe(0);
    expect(tokens.get()).not.toBeNull();
  });
});
