/**
 * Magic links and email codes (auth.requestMagicLink, auth.consumeMagicLink,
 * auth.requestEmailCode, auth.verifyEmailCode) and auth.setPassword, through
 * createCaller with the in-memory outbox as the mailbox, and over real HTTP
 * for the parallel guessing of codes.
 */
import { describe, expect, it } from "vitest";
import type { Database } from "../server/db/database.ts";
import { MemoryOutbox, type OutboxEntry } from "../server/mail/outbox.ts";
import type { Services } from "../server/services.ts";
import { callerFor, newAccount, signedIn } from "./helpers/caller.ts";
import { onPostgres } from "./helpers/database.ts";
import { expectTRPCError } from "./helpers/errors.ts";
import { expectError, mutate } from "./helpers/http.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { expectNoChange } from "./helpers/rows.ts";
import { type TestClock, testServices, useServices } from "./helpers/services.ts";
import { totpCode } from "./helpers/totp.ts";

const APP_URL = "https://app.example.test";

let db: Database;
let services: Services;
let clock: TestClock;

useServices({ start: "2026-01-01T00:00:10Z", env: { APP_URL } }, (fresh) => ({ db, services, clock } = fresh));

async function registered() {
  const account = newAccount();
  const result = await callerFor(services).auth.register(account);
  return { account, user: result.user, token: result.accessToken };
}

async function mailbox(of: Services = services): Promise<OutboxEntry[]> {
  await of.background.drain();
  if (!(of.mailer instanceof MemoryOutbox)) throw new Error("expected the in-memory outbox (DATA_DIR=:memory:)");
  return of.mailer.messages;
}

async function magicLinks(email: string, of: Services = services): Promise<OutboxEntry[]> {
  return (await mailbox(of)).filter((m) => m.to === email && m.link.startsWith(`${APP_URL}/magic-link?token=`));
}

async function latestMagicToken(email: string): Promise<string> {
  const mails = await magicLinks(email);
  expect(mails.length).toBeGreaterThan(0);
  return new URL(mails.at(-1)!.link).searchParams.get("token")!;
}

async function codeMails(email: string, of: Services = services): Promise<OutboxEntry[]> {
  return (await mailbox(of)).filter((m) => m.to === email && m.subject.startsWith("Your sign-in code:"));
}

async function latestCode(email: string, of: Services = services): Promise<string> {
  const mails = await codeMails(email, of);
  expect(mails.length).toBeGreaterThan(0);
  const code = /^Your sign-in code: (\d{6})$/.exec(mails.at(-1)!.subject)?.[1];
  expect(code).toMatch(/^\d{6}$/);
  expect(mails.at(-1)!.text).toContain(`Your sign-in code is ${code}.`);
  return code!;
}

/** A code that is not `code`. */
function wrong(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, "0");
}

describe(`magic links (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("mails ${APP_URL}/magic-link?token=… and the token signs in once, verifying the email", async () => {
    const { account, user } = await registered();
    expect(await callerFor(services).auth.requestMagicLink({ email: account.email.toUpperCase() })).toEqual({ success: true });
    const token = await latestMagicToken(account.email);
    const [mail] = await magicLinks(account.email);
    expect(mail!.subject).toBe("Your sign-in link");
    expect(mail!.text).toContain("valid for 15 minutes");

    const result = signedIn(await callerFor(services).auth.consumeMagicLink({ token }));
    expect(result.user).toMatchObject({ id: user.id, email: account.email, emailVerified: true });
    expect((await callerFor(services, { token: result.accessToken }).auth.me()).id).toBe(user.id);
    const events = await db.prisma.authEvent.findMany({ where: { userId: user.id }, select: { type: true } });
    expect(events.map((e) => e.type).sort()).toEqual(["email_verified", "login", "register"]);

    await expectTRPCError(callerFor(services).auth.consumeMagicLink({ token }), "BAD_REQUEST", "MAGIC_LINK_INVALID");
  });

  it("refuses a link after 15 minutes, a tampered link, and an earlier link once a newer one is sent", async () => {
    const { account } = await registered();
    await callerFor(services).auth.requestMagicLink({ email: account.email });
    const first = await latestMagicToken(account.email);
    clock.advance(60);
    await callerFor(services).auth.requestMagicLink({ email: account.email });
    const second = await latestMagicToken(account.email);
    expect(second).not.toBe(first);
    await expectTRPCError(callerFor(services).auth.consumeMagicLink({ token: first }), "BAD_REQUEST", "MAGIC_LINK_INVALID");
    const tampered = `${second.slice(0, -1)}${second.endsWith("A") ? "B" : "A"}`;
    await expectTRPCError(callerFor(services).auth.consumeMagicLink({ token: tampered }), "BAD_REQUEST", "MAGIC_LINK_INVALID");
    clock.advance(15 * 60 + 1);
    await expectTRPCError(callerFor(services).auth.consumeMagicLink({ token: second }), "BAD_REQUEST", "MAGIC_LINK_INVALID");
  });

  it("answers an unknown email exactly like a known one, sends nothing and writes nothing", async () => {
    const result = await expectNoChange(db, async () => {
      const answer = await callerFor(services).auth.requestMagicLink({ email: "nobody@example.com" });
      await services.background.drain();
      return answer;
    });
    expect(result).toEqual({ success: true });
    expect(await mailbox()).toHaveLength(0);
  });

  it("is held by the mail throttle: past it the answer is the same and nothing is sent", async () => {
    const throttled = await testServices(db, { clock, env: { APP_URL, MAIL_PER_MINUTE: "1" } });
    const account = newAccount();
    await callerFor(throttled).auth.register(account);
    expect(await callerFor(throttled).auth.requestMagicLink({ email: account.email })).toEqual({ success: true });
    expect(await callerFor(throttled).auth.requestMagicLink({ email: account.email })).toEqual({ success: true });
    expect(await magicLinks(account.email, throttled)).toHaveLength(1);
    await throttled.close();
  });

  it("a user with a second factor gets an MfaChallenge, and a session only after the TOTP code", async () => {
    const { account, token } = await registered();
    const me = callerFor(services, { token });
    const setup = await me.mfa.totpSetup({ password: account.password });
    await me.mfa.totpEnable({ code: totpCode(setup.secret, clock.now()) });
    clock.advance(60);
    const sessionsBefore = await db.prisma.session.count();

    await callerFor(services).auth.requestMagicLink({ email: account.email });
    const challenge = await callerFor(services).auth.consumeMagicLink({ token: await latestMagicToken(account.email) });
    expect(challenge).toMatchObject({ mfaRequired: true, methods: ["totp", "recovery_code"] });
    if (!challenge.mfaRequired) throw new Error("expected a challenge");
    expect(await db.prisma.session.count()).toBe(sessionsBefore);
    const done = await callerFor(services).auth.verifyMfa({ mfaToken: challenge.mfaToken, code: totpCode(setup.secret, clock.now()) });
    expect(done.user.email).toBe(account.email);
    expect(await db.prisma.session.count()).toBe(sessionsBefore + 1);
  });
});

describe(`email codes (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("mails a six-digit code that signs in once", async () => {
    const { account, user } = await registered();
    expect(await callerFor(services).auth.requestEmailCode({ email: account.email })).toEqual({ success: true });
    const code = await latestCode(account.email);
    const result = signedIn(await callerFor(services).auth.verifyEmailCode({ email: account.email, code }));
    expect(result.user).toMatchObject({ id: user.id, emailVerified: true });
    await expectTRPCError(callerFor(services).auth.verifyEmailCode({ email: account.email, code }), "UNAUTHORIZED", "EMAIL_CODE_INVALID");
  });

  it("burns a code after 5 wrong attempts: the right code is refused on the 6th", async () => {
    const { account } = await registered();
    await callerFor(services).auth.requestEmailCode({ email: account.email });
    const code = await latestCode(account.email);
    for (let i = 0; i < 5; i++) {
      await expectTRPCError(callerFor(services).auth.verifyEmailCode({ email: account.email, code: wrong(code) }), "UNAUTHORIZED", "EMAIL_CODE_INVALID");
    }
    await expectTRPCError(callerFor(services).auth.verifyEmailCode({ email: account.email, code }), "UNAUTHORIZED", "EMAIL_CODE_INVALID");
    const row = await db.prisma.oneTimeToken.findFirstOrThrow({ where: { purpose: "email_code" } });
    expect(row).toMatchObject({ attempts: 5, usedAt: null });
  });

  it("refuses a code after 10 minutes, and stores only a hash of it", async () => {
    const { account } = await registered();
    await callerFor(services).auth.requestEmailCode({ email: account.email });
    const code = await latestCode(account.email);
    const row = await db.prisma.oneTimeToken.findFirstOrThrow({ where: { purpose: "email_code" } });
    expect(Buffer.from(row.secretHash).toString("utf8")).not.toContain(code);
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBe(10 * 60 * 1000);
    clock.advance(10 * 60 + 1);
    await expectTRPCError(callerFor(services).auth.verifyEmailCode({ email: account.email, code }), "UNAUTHORIZED", "EMAIL_CODE_INVALID");
  });

  it("answers an unknown email with the same success and, at verification, the same EMAIL_CODE_INVALID", async () => {
    expect(await callerFor(services).auth.requestEmailCode({ email: "nobody@example.com" })).toEqual({ success: true });
    expect(await mailbox()).toHaveLength(0);
    await expectTRPCError(callerFor(services).auth.verifyEmailCode({ email: "nobody@example.com", code: "123456" }), "UNAUTHORIZED", "EMAIL_CODE_INVALID");
  });

  it("50 parallel wrong codes over HTTP get LOGIN_MAX_FAILURES (5) comparisons; the rest, and then the right code, are RATE_LIMITED", async () => {
    const limited = await testServices(db, { clock, env: { APP_URL, LOGIN_MAX_FAILURES: "5" } });
    const { url } = await startTestServer(limited);
    const account = newAccount();
    await callerFor(limited).auth.register(account);
    await callerFor(limited).auth.requestEmailCode({ email: account.email });
    const code = await latestCode(account.email, limited);

    const answers = await Promise.all(
      Array.from({ length: 50 }, () => mutate(url, "auth.verifyEmailCode", { email: account.email, code: wrong(code) })),
    );
    const codes = answers.map((a) => a.body.error.json.data.appCode as string);
    expect(codes.filter((c) => c === "EMAIL_CODE_INVALID")).toHaveLength(5);
    expect(codes.filter((c) => c === "RATE_LIMITED")).toHaveLength(45);
    const row = await db.prisma.oneTimeToken.findFirstOrThrow({ where: { purpose: "email_code" } });
    expect(row.attempts).toBe(5);
    expectError(await mutate(url, "auth.verifyEmailCode", { email: account.email, code }), 429, "RATE_LIMITED");
    await limited.background.drain();
    await limited.close();
  });
});

describe(`accounts without a password (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  /** An account as OAuth creates it: verified email, no password. */
  async function passwordless() {
    const account = newAccount();
    const user = await db.prisma.user.create({ data: { email: account.email, name: account.name, emailVerified: true } });
    await callerFor(services).auth.requestMagicLink({ email: account.email });
    const session = signedIn(await callerFor(services).auth.consumeMagicLink({ token: await latestMagicToken(account.email) }));
    return { account, user, token: session.accessToken };
  }

  it("cannot sign in with any password, and gets PASSWORD_NOT_SET where a current password is asked", async () => {
    const { account, token } = await passwordless();
    await expectTRPCError(callerFor(services).auth.login({ email: account.email, password: account.password }), "UNAUTHORIZED", "INVALID_CREDENTIALS");
    await expectTRPCError(
      callerFor(services, { token }).auth.changePassword({ currentPassword: "anything at all", newPassword: "a brand new passphrase 42" }),
      "BAD_REQUEST",
      "PASSWORD_NOT_SET",
    );
  });

  it("auth.setPassword adds a first password once; the second call is PASSWORD_ALREADY_SET", async () => {
    const { account, user, token } = await passwordless();
    const me = callerFor(services, { token });
    await expectTRPCError(me.auth.setPassword({ newPassword: "password" }), "BAD_REQUEST", "WEAK_PASSWORD");
    expect(await me.auth.setPassword({ newPassword: account.password })).toEqual({ success: true });
    expect(signedIn(await callerFor(services).auth.login({ email: account.email, password: account.password })).user.id).toBe(user.id);
    await expectTRPCError(me.auth.setPassword({ newPassword: "another fine passphrase" }), "CONFLICT", "PASSWORD_ALREADY_SET");
    const events = await db.prisma.authEvent.findMany({ where: { userId: user.id, type: "password_set" } });
    expect(events).toHaveLength(1);
  });
});
