/**
 * Second-factor codes under the per-email lockout: wrong codes count like
 * wrong passwords, and guesses sent at once are bounded exactly like
 * passwords. "Verifications" are counted by the answers that say a code was
 * checked and wrong (MFA_CODE_INVALID) and by the `mfa_failed` events written.
 */
import { describe, expect, it } from "vitest";
import type { Database } from "../server/db/database.ts";
import type { Services } from "../server/services.ts";
import { callerFor, newAccount } from "./helpers/caller.ts";
import { expectTRPCError } from "./helpers/errors.ts";
import { type TestClock, useServices } from "./helpers/services.ts";
import { totpCode } from "./helpers/totp.ts";

const MAX_FAILURES = 5;

let db: Database;
let services: Services;
let clock: TestClock;

useServices({ start: "2026-01-01T00:00:10Z", env: { LOGIN_MAX_FAILURES: String(MAX_FAILURES), LOGIN_LOCKOUT: "15m" } }, (fresh) => ({ db, services, clock } = fresh));

async function enrolled() {
  const account = newAccount();
  const { accessToken, user } = await callerFor(services).auth.register(account);
  const me = callerFor(services, { token: accessToken });
  const { secret } = await me.mfa.totpSetup({ password: account.password });
  await me.mfa.totpEnable({ code: totpCode(secret, clock.now()) });
  clock.advance(60);
  return { account, user, secret };
}

async function mfaToken(account: { email: string; password: string }): Promise<string> {
  const result = await callerFor(services).auth.login(account);
  if (!result.mfaRequired) throw new Error("expected a second-factor challenge");
  return result.mfaToken;
}

/** A code that is wrong now: not within ±1 step (the right code's neighbours are the only other accepted ones). */
function wrongCode(secret: string): string {
  const accepted = new Set([-1, 0, 1].map((o) => totpCode(secret, clock.now(), o)));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, "0");
    if (!accepted.has(code)) return code;
  }
}

async function answers(calls: Promise<unknown>[]): Promise<Record<string, number>> {
  const settled = await Promise.allSettled(calls);
  const counts: Record<string, number> = {};
  for (const r of settled) {
    const key = r.status === "fulfilled" ? "signed in" : String((r.reason as { appCode?: string }).appCode);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

const failedEvents = (userId: string) => db.prisma.authEvent.count({ where: { userId, type: "mfa_failed" } });

describe("second-factor codes and the per-email lockout", () => {
  it("wrong codes lock the email: after LOGIN_MAX_FAILURES of them even the right password is RATE_LIMITED", async () => {
    const { account, secret } = await enrolled();
    // Each code on a fresh sign-in, so that only the lockout (not the challenge's own five attempts) stops them.
    for (let i = 0; i < MAX_FAILURES; i++) {
      await expectTRPCError(callerFor(services).auth.verifyMfa({ mfaToken: await mfaToken(account), code: wrongCode(secret) }), "UNAUTHORIZED", "MFA_CODE_INVALID");
    }
    await expectTRPCError(callerFor(services).auth.login(account), "TOO_MANY_REQUESTS", "RATE_LIMITED");
  });

  it("a right password between guesses does not forget the wrong codes", async () => {
    const { account, secret } = await enrolled();
    const tokens: string[] = [];
    for (let i = 0; i < MAX_FAILURES; i++) {
      const token = await mfaToken(account);
      tokens.push(token);
      await expectTRPCError(callerFor(services).auth.verifyMfa({ mfaToken: token, code: wrongCode(secret) }), "UNAUTHORIZED", "MFA_CODE_INVALID");
    }
    // The email is locked: a live challenge cannot be used to keep guessing, nor to sign in.
    await expectTRPCError(callerFor(services).auth.verifyMfa({ mfaToken: tokens[0]!, code: totpCode(secret, clock.now()) }), "TOO_MANY_REQUESTS", "RATE_LIMITED");
  });

  it("a right code forgets the failures counted before it", async () => {
    const { account, secret } = await enrolled();
    for (let i = 0; i < MAX_FAILURES - 1; i++) {
      await expectTRPCError(callerFor(services).auth.verifyMfa({ mfaToken: await mfaToken(account), code: wrongCode(secret) }), "UNAUTHORIZED", "MFA_CODE_INVALID");
    }
    await callerFor(services).auth.verifyMfa({ mfaToken: await mfaToken(account), code: totpCode(secret, clock.now()) });
    await expectTRPCError(callerFor(services).auth.verifyMfa({ mfaToken: await mfaToken(account), code: wrongCode(secret) }), "UNAUTHORIZED", "MFA_CODE_INVALID");
    await mfaToken(account);
  });

  it("100 parallel wrong codes on one mfaToken: at most 5 are verified, the rest refused", async () => {
    const { account, user, secret } = await enrolled();
    const token = await mfaToken(account);
    const code = wrongCode(secret);
    const counts = await answers(Array.from({ length: 100 }, () => callerFor(services).auth.verifyMfa({ mfaToken: token, code })));
    expect((counts.MFA_CODE_INVALID ?? 0) + (counts.MFA_TOKEN_INVALID ?? 0) + (counts.RATE_LIMITED ?? 0)).toBe(100);
    expect(counts.MFA_CODE_INVALID).toBeLessThanOrEqual(MAX_FAILURES);
    expect(counts.MFA_CODE_INVALID).toBeGreaterThan(0);
    expect(await failedEvents(user.id)).toBe(counts.MFA_CODE_INVALID);
  });

  it("100 parallel wrong codes over 20 sign-ins: no more than LOGIN_MAX_FAILURES are verified, exactly like passwords", async () => {
    const { account, user, secret } = await enrolled();
    // One after the other: sign-ins sent at once would be held to LOGIN_MAX_FAILURES by the reservation too.
    const tokens: string[] = [];
    for (let i = 0; i < 20; i++) tokens.push(await mfaToken(account));
    const code = wrongCode(secret);
    const counts = await answers(
      Array.from({ length: 100 }, (_, i) => callerFor(services).auth.verifyMfa({ mfaToken: tokens[i % tokens.length]!, code })),
    );
    // 20 challenges of 5 attempts each hold all 100 calls, so only the lockout can stop them.
    expect((counts.MFA_CODE_INVALID ?? 0) + (counts.RATE_LIMITED ?? 0)).toBe(100);
    expect(counts.MFA_CODE_INVALID).toBeLessThanOrEqual(MAX_FAILURES);
    expect(counts.MFA_CODE_INVALID).toBeGreaterThan(0);
    expect(await failedEvents(user.id)).toBe(counts.MFA_CODE_INVALID);
    await expectTRPCError(callerFor(services).auth.login(account), "TOO_MANY_REQUESTS", "RATE_LIMITED");
  });
});
