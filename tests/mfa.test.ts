/**
 * TOTP, recovery codes and the sign-in challenge, through createCaller on
 * the real database, with codes computed independently from the secret
 * (tests/helpers/totp.ts) and an injected clock.
 */
import { describe, expect, it } from "vitest";
import type { Database } from "../server/db/database.ts";
import type { Services } from "../server/services.ts";
import { callerFor, newAccount, signedIn } from "./helpers/caller.ts";
import { expectTRPCError } from "./helpers/errors.ts";
import { expectNoChange } from "./helpers/rows.ts";
import { type TestClock, useServices } from "./helpers/services.ts";
import { totpCode } from "./helpers/totp.ts";

let db: Database;
let services: Services;
let clock: TestClock;

// Ten seconds into a 30-second step, so ±1 step is unambiguous.
useServices({ start: "2026-01-01T00:00:10Z" }, (fresh) => ({ db, services, clock } = fresh));

async function registered() {
  const account = newAccount();
  const result = await callerFor(services).auth.register(account);
  return { account, token: result.accessToken, user: result.user };
}

/** A user with TOTP on: its secret and its recovery codes. */
async function enrolled() {
  const { account, token, user } = await registered();
  const me = callerFor(services, { token });
  const setup = await me.mfa.totpSetup({ password: account.password });
  const { recoveryCodes } = await me.mfa.totpEnable({ code: totpCode(setup.secret, clock.now()) });
  // The enabling code's step is spent; two steps on, the steps either side of now are fresh.
  clock.advance(60);
  return { account, token, user, secret: setup.secret, recoveryCodes, me };
}

async function challenge(account: { email: string; password: string }) {
  const result = await callerFor(services).auth.login({ email: account.email, password: account.password });
  if (!result.mfaRequired) throw new Error("expected a second-factor challenge");
  return result;
}

async function eventTypes(userId: string): Promise<string[]> {
  const rows = await db.prisma.authEvent.findMany({ where: { userId }, orderBy: [{ at: "asc" }, { id: "asc" }] });
  return rows.map((r) => r.type);
}

describe("TOTP setup", () => {
  it("returns a base32 secret, an otpauth:// URL naming it and a QR code as SVG", async () => {
    const { account, token } = await registered();
    const setup = await callerFor(services, { token }).mfa.totpSetup({ password: account.password });
    expect(setup.secret).toMatch(/^[A-Z2-7]{32}$/);
    const url = new URL(setup.otpauthUrl);
    expect(url.protocol).toBe("otpauth:");
    expect(url.host).toBe("totp");
    expect(url.searchParams.get("secret")).toBe(setup.secret);
    expect(url.searchParams.get("issuer")).toBe("Gatehouse");
    expect(url.searchParams.get("algorithm")).toBe("SHA1");
    expect(url.searchParams.get("digits")).toBe("6");
    expect(url.searchParams.get("period")).toBe("30");
    expect(decodeURIComponent(url.pathname)).toContain(account.email);
    expect(setup.qrSvg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(setup.qrSvg).toContain("<path");
  });

  it("is not active until a correct code confirms it", async () => {
    const { account, token } = await registered();
    const me = callerFor(services, { token });
    const setup = await me.mfa.totpSetup({ password: account.password });
    expect(await me.mfa.status()).toEqual({ totp: false, recoveryCodesLeft: 0, passkeys: 0 });
    expect((await me.auth.me()).twoFactorEnabled).toBe(false);
    signedIn(await callerFor(services).auth.login(account));

    await expectTRPCError(me.mfa.totpEnable({ code: totpCode(setup.secret, clock.now(), 3) }), "UNAUTHORIZED", "MFA_CODE_INVALID");
    expect(await me.mfa.status()).toEqual({ totp: false, recoveryCodesLeft: 0, passkeys: 0 });

    const { recoveryCodes } = await me.mfa.totpEnable({ code: totpCode(setup.secret, clock.now()) });
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
    expect(await me.mfa.status()).toEqual({ totp: true, recoveryCodesLeft: 10, passkeys: 0 });
    expect((await me.auth.me()).twoFactorEnabled).toBe(true);
  });

  it("needs the password, and a wrong one counts as CURRENT_PASSWORD_INVALID", async () => {
    const { token } = await registered();
    await expectTRPCError(callerFor(services, { token }).mfa.totpSetup({ password: "not my password" }), "FORBIDDEN", "CURRENT_PASSWORD_INVALID");
    expect(await db.prisma.totpFactor.count()).toBe(0);
  });

  it("refuses a second setup once enabled (MFA_ALREADY_ENABLED)", async () => {
    const { account, me } = await enrolled();
    await expectTRPCError(me.mfa.totpSetup({ password: account.password }), "CONFLICT", "MFA_ALREADY_ENABLED");
  });

  it("an unconfirmed setup expires after 10 minutes and leaves no factor", async () => {
    const { account, token } = await registered();
    const me = callerFor(services, { token });
    const setup = await me.mfa.totpSetup({ password: account.password });
    clock.advance(10 * 60 + 1);
    await expectTRPCError(me.mfa.totpEnable({ code: totpCode(setup.secret, clock.now()) }), "BAD_REQUEST", "MFA_NOT_ENABLED");
    expect(await db.prisma.totpFactor.count()).toBe(0);
    expect(await me.mfa.status()).toEqual({ totp: false, recoveryCodesLeft: 0, passkeys: 0 });
    signedIn(await callerFor(services).auth.login(account));
  });

  it("stores the secret sealed and the recovery codes hashed: the database holds neither in plain text", async () => {
    const { user, secret, recoveryCodes } = await enrolled();
    const dump = JSON.stringify(
      await db.query("SELECT t.*, (SELECT json_agg(r) FROM recovery_codes r WHERE r.user_id = t.user_id) AS codes FROM totp_factors t", []),
      (_key, value) => (typeof value === "bigint" ? String(value) : value),
    );
    expect(dump).toContain(user.id);
    expect(dump).not.toContain(secret);
    expect(dump.toLowerCase()).not.toContain(secret.toLowerCase());
    for (const code of recoveryCodes) {
      expect(dump).not.toContain(code);
      expect(dump).not.toContain(code.replace("-", ""));
    }
    const [row] = await db.query<{ sealed_secret: string }>("SELECT sealed_secret FROM totp_factors", []);
    expect(row!.sealed_secret).toMatch(/^v1\./);
    expect(services.sealer.open(row!.sealed_secret, `totp:${user.id}`)).toBe(secret);
  });
});

describe("the sign-in challenge", () => {
  it("login answers MfaChallenge and opens no session; verifyMfa with a TOTP code opens one", async () => {
    const { account, user, secret } = await enrolled();
    const sessionsBefore = await db.prisma.session.count({ where: { userId: user.id } });
    const result = await challenge(account);
    expect(result).toEqual({ mfaRequired: true, mfaToken: expect.any(String), methods: ["totp", "recovery_code"], expiresIn: 300 });
    expect(Object.keys(result).sort()).toEqual(["expiresIn", "methods", "mfaRequired", "mfaToken"]);
    expect(await db.prisma.session.count({ where: { userId: user.id } })).toBe(sessionsBefore);

    const auth = await callerFor(services).auth.verifyMfa({ mfaToken: result.mfaToken, code: totpCode(secret, clock.now()) });
    expect(auth).toMatchObject({ tokenType: "Bearer", user: { id: user.id, twoFactorEnabled: true } });
    expect((await callerFor(services, { token: auth.accessToken }).auth.me()).id).toBe(user.id);
    expect(await db.prisma.session.count({ where: { userId: user.id } })).toBe(sessionsBefore + 1);
    expect((await eventTypes(user.id)).slice(-1)).toEqual(["login"]);
  });

  it("accepts a code one step either side of now, and refuses two steps away", async () => {
    const { account, secret } = await enrolled();
    // Spent from the earliest step, since a code at or before the last accepted step is refused.
    await expectTRPCError(
      callerFor(services).auth.verifyMfa({ mfaToken: (await challenge(account)).mfaToken, code: totpCode(secret, clock.now(), -2) }),
      "UNAUTHORIZED",
      "MFA_CODE_INVALID",
    );
    await expectTRPCError(
      callerFor(services).auth.verifyMfa({ mfaToken: (await challenge(account)).mfaToken, code: totpCode(secret, clock.now(), 2) }),
      "UNAUTHORIZED",
      "MFA_CODE_INVALID",
    );
    for (const offset of [-1, 1]) {
      const auth = await callerFor(services).auth.verifyMfa({ mfaToken: (await challenge(account)).mfaToken, code: totpCode(secret, clock.now(), offset) });
      expect(auth.tokenType).toBe("Bearer");
    }
  });

  it("refuses a replay of an accepted code within its window", async () => {
    const { account, secret } = await enrolled();
    const code = totpCode(secret, clock.now());
    await callerFor(services).auth.verifyMfa({ mfaToken: (await challenge(account)).mfaToken, code });
    clock.advance(20);
    await expectTRPCError(
      callerFor(services).auth.verifyMfa({ mfaToken: (await challenge(account)).mfaToken, code }),
      "UNAUTHORIZED",
      "MFA_CODE_INVALID",
    );
  });

  it("lets exactly one of two racing sign-ins with one code through", async () => {
    const { account, secret } = await enrolled();
    const code = totpCode(secret, clock.now());
    const [a, b] = [await challenge(account), await challenge(account)];
    const results = await Promise.allSettled([
      callerFor(services).auth.verifyMfa({ mfaToken: a.mfaToken, code }),
      callerFor(services).auth.verifyMfa({ mfaToken: b.mfaToken, code }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.find((r) => r.status === "rejected")).toMatchObject({ reason: { appCode: "MFA_CODE_INVALID" } });
  });

  it("the mfaToken is single use", async () => {
    const { account, secret } = await enrolled();
    const { mfaToken } = await challenge(account);
    await callerFor(services).auth.verifyMfa({ mfaToken, code: totpCode(secret, clock.now()) });
    clock.advance(30);
    await expectTRPCError(callerFor(services).auth.verifyMfa({ mfaToken, code: totpCode(secret, clock.now()) }), "UNAUTHORIZED", "MFA_TOKEN_INVALID");
  });

  it("the mfaToken expires after 5 minutes", async () => {
    const { account, secret } = await enrolled();
    const { mfaToken } = await challenge(account);
    clock.advance(5 * 60);
    await expectTRPCError(callerFor(services).auth.verifyMfa({ mfaToken, code: totpCode(secret, clock.now()) }), "UNAUTHORIZED", "MFA_TOKEN_INVALID");
  });

  it("five wrong codes burn the mfaToken: the right code is refused after them", async () => {
    const { account, user, secret } = await enrolled();
    const { mfaToken } = await challenge(account);
    for (let i = 0; i < 5; i++) {
      await expectTRPCError(callerFor(services).auth.verifyMfa({ mfaToken, code: "000000" }), "UNAUTHORIZED", "MFA_CODE_INVALID");
    }
    await expectTRPCError(callerFor(services).auth.verifyMfa({ mfaToken, code: totpCode(secret, clock.now()) }), "UNAUTHORIZED", "MFA_TOKEN_INVALID");
    expect((await eventTypes(user.id)).filter((t) => t === "mfa_failed")).toHaveLength(5);
  });

  it("refuses a made-up, malformed or foreign-shaped mfaToken and changes nothing", async () => {
    const { account, secret } = await enrolled();
    const real = (await challenge(account)).mfaToken;
    const [id, tokenSecret] = real.split(".") as [string, string];
    const forged = [
      `${id}.${"A".repeat(43)}`,
      `01890a5d-ac96-774b-bcce-b302099a8057.${tokenSecret}`,
      "not-a-token",
      `${id}.`,
    ];
    for (const mfaToken of forged) {
      await expectNoChange(db, () =>
        expectTRPCError(callerFor(services).auth.verifyMfa({ mfaToken, code: totpCode(secret, clock.now()) }), "UNAUTHORIZED", "MFA_TOKEN_INVALID"),
      );
    }
  });

  it("a challenge of one user never signs in another", async () => {
    const alice = await enrolled();
    const bob = await enrolled();
    const { mfaToken } = await challenge(alice.account);
    // Bob's valid code against Alice's challenge: checked against Alice's secret, so refused.
    await expectTRPCError(callerFor(services).auth.verifyMfa({ mfaToken, code: totpCode(bob.secret, clock.now()) }), "UNAUTHORIZED", "MFA_CODE_INVALID");
    const auth = await callerFor(services).auth.verifyMfa({ mfaToken, code: totpCode(alice.secret, clock.now()) });
    expect(auth.user.id).toBe(alice.user.id);
  });

  it("a wrong password still answers INVALID_CREDENTIALS, never a challenge", async () => {
    const { account } = await enrolled();
    await expectTRPCError(callerFor(services).auth.login({ email: account.email, password: "not my password" }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
  });
});

describe("recovery codes", () => {
  it("each signs in once, in any case and without the hyphen; status counts them down; using one is an event", async () => {
    const { account, user, recoveryCodes, me } = await enrolled();
    const [first, second] = recoveryCodes as [string, string];
    const auth = await callerFor(services).auth.verifyMfa({ mfaToken: (await challenge(account)).mfaToken, code: first });
    expect(auth.user.id).toBe(user.id);
    expect((await eventTypes(user.id)).slice(-2)).toEqual(["recovery_code_used", "login"]);
    await expectTRPCError(
      callerFor(services).auth.verifyMfa({ mfaToken: (await challenge(account)).mfaToken, code: first }),
      "UNAUTHORIZED",
      "MFA_CODE_INVALID",
    );
    await callerFor(services).auth.verifyMfa({ mfaToken: (await challenge(account)).mfaToken, code: second.replace("-", "").toUpperCase() });
    expect(await me.mfa.status()).toMatchObject({ recoveryCodesLeft: 8 });
  });

  it("can all be used up, after which only TOTP signs in", async () => {
    const { account, secret, recoveryCodes, me } = await enrolled();
    for (const code of recoveryCodes) await callerFor(services).auth.verifyMfa({ mfaToken: (await challenge(account)).mfaToken, code });
    expect(await me.mfa.status()).toEqual({ totp: true, recoveryCodesLeft: 0, passkeys: 0 });
    for (const code of recoveryCodes.slice(0, 3)) {
      await expectTRPCError(
        callerFor(services).auth.verifyMfa({ mfaToken: (await challenge(account)).mfaToken, code }),
        "UNAUTHORIZED",
        "MFA_CODE_INVALID",
      );
    }
    await callerFor(services).auth.verifyMfa({ mfaToken: (await challenge(account)).mfaToken, code: totpCode(secret, clock.now()) });
  });

  it("regenerating needs the password; the old codes die and the new ones work", async () => {
    const { account, user, recoveryCodes, me } = await enrolled();
    await expectTRPCError(me.mfa.recoveryCodesRegenerate({ password: "not my password" }), "FORBIDDEN", "CURRENT_PASSWORD_INVALID");
    const { recoveryCodes: fresh } = await me.mfa.recoveryCodesRegenerate({ password: account.password });
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((c) => recoveryCodes.includes(c))).toEqual([]);
    await expectTRPCError(
      callerFor(services).auth.verifyMfa({ mfaToken: (await challenge(account)).mfaToken, code: recoveryCodes[0]! }),
      "UNAUTHORIZED",
      "MFA_CODE_INVALID",
    );
    await callerFor(services).auth.verifyMfa({ mfaToken: (await challenge(account)).mfaToken, code: fresh[0]! });
    expect(await eventTypes(user.id)).toContain("recovery_codes_regenerated");
  });
});

describe("turning TOTP off", () => {
  it("needs the password and a current code; then login needs no second step", async () => {
    const { account, user, secret, me } = await enrolled();
    await expectTRPCError(me.mfa.totpDisable({ password: "not my password", code: totpCode(secret, clock.now()) }), "FORBIDDEN", "CURRENT_PASSWORD_INVALID");
    await expectTRPCError(me.mfa.totpDisable({ password: account.password, code: "000000" }), "UNAUTHORIZED", "MFA_CODE_INVALID");
    expect(await me.mfa.status()).toMatchObject({ totp: true });

    expect(await me.mfa.totpDisable({ password: account.password, code: totpCode(secret, clock.now()) })).toEqual({ success: true });
    expect(await me.mfa.status()).toEqual({ totp: false, recoveryCodesLeft: 0, passkeys: 0 });
    expect((await me.auth.me()).twoFactorEnabled).toBe(false);
    signedIn(await callerFor(services).auth.login(account));
    expect(await eventTypes(user.id)).toEqual(
      expect.arrayContaining(["mfa_enabled", "mfa_failed", "mfa_disabled"]),
    );
    await expectTRPCError(me.mfa.totpDisable({ password: account.password, code: "000000" }), "BAD_REQUEST", "MFA_NOT_ENABLED");
    await expectTRPCError(me.mfa.recoveryCodesRegenerate({ password: account.password }), "BAD_REQUEST", "MFA_NOT_ENABLED");
  });

  it("accepts a recovery code instead of a TOTP code (lost device)", async () => {
    const { account, recoveryCodes, me } = await enrolled();
    await me.mfa.totpDisable({ password: account.password, code: recoveryCodes[4]! });
    expect(await me.mfa.status()).toMatchObject({ totp: false });
  });
});

describe("the rest of the account with TOTP on", () => {
  it("changePassword works, and the next sign-in still needs the second step", async () => {
    const { account, secret, me } = await enrolled();
    const changed = await me.auth.changePassword({ currentPassword: account.password, newPassword: "a brand new passphrase 42" });
    expect(changed.user.twoFactorEnabled).toBe(true);
    const next = await challenge({ email: account.email, password: "a brand new passphrase 42" });
    await callerFor(services).auth.verifyMfa({ mfaToken: next.mfaToken, code: totpCode(secret, clock.now()) });
  });

  it("a password reset does not switch TOTP off", async () => {
    const { account, user, secret } = await enrolled();
    await callerFor(services).auth.requestPasswordReset({ email: account.email });
    await services.background.drain();
    const reset = (services.mailer as unknown as { messages: { to: string; link: string }[] }).messages.find((m) => m.to === account.email && m.link.includes("reset-password"));
    const token = new URL(reset!.link).searchParams.get("token")!;
    await callerFor(services).auth.resetPassword({ token, newPassword: "a brand new passphrase 42" });
    const next = await challenge({ email: account.email, password: "a brand new passphrase 42" });
    const auth = await callerFor(services).auth.verifyMfa({ mfaToken: next.mfaToken, code: totpCode(secret, clock.now()) });
    expect(auth.user).toMatchObject({ id: user.id, twoFactorEnabled: true });
  });

  it("deleteAccount works and removes the factor, its codes and challenges", async () => {
    const { account, me } = await enrolled();
    await challenge(account);
    await me.auth.deleteAccount({ password: account.password });
    expect(await db.prisma.totpFactor.count()).toBe(0);
    expect(await db.prisma.recoveryCode.count()).toBe(0);
    expect(await db.prisma.mfaChallenge.count()).toBe(0);
  });
});

describe("concurrency", () => {
  it("two setups at once: both answer, one setup is left pending, and only its secret confirms", async () => {
    const { account, token } = await registered();
    const me = callerFor(services, { token });
    const setups = await Promise.all([me.mfa.totpSetup({ password: account.password }), me.mfa.totpSetup({ password: account.password })]);
    expect(await db.prisma.totpFactor.count()).toBe(1);
    const enabled = await Promise.allSettled(setups.map((s) => me.mfa.totpEnable({ code: totpCode(s.secret, clock.now()) })));
    expect(enabled.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });

  it("two enables at once with one right code: one set of recovery codes", async () => {
    const { account, token } = await registered();
    const me = callerFor(services, { token });
    const { secret } = await me.mfa.totpSetup({ password: account.password });
    const code = totpCode(secret, clock.now());
    const results = await Promise.allSettled([me.mfa.totpEnable({ code }), me.mfa.totpEnable({ code })]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await db.prisma.recoveryCode.count()).toBe(10);
  });
});
