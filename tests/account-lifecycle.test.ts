/**
 * changePassword, password reset, email verification, deleteAccount, activity and
 * user.updateProfile — through createCaller, with the in-memory outbox as the mailbox.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createCaller } from "../routers/_app.ts";
import { createContextInner } from "../server/context.ts";
import type { Database } from "../server/db/database.ts";
import type { Mailer } from "../server/mail/types.ts";
import { MemoryOutbox, type OutboxEntry } from "../server/mail/outbox.ts";
import { createServices, type Services } from "../server/services.ts";
import { callerFor, newAccount, signedIn } from "./helpers/caller.ts";
import { silentLog } from "./helpers/database.ts";
import { expectTRPCError } from "./helpers/errors.ts";
import { type TestClock, testConfig, useServices } from "./helpers/services.ts";

const HOUR = 60 * 60;
const NEW_PASSWORD = "a brand new passphrase 42";

let db: Database;
let services: Services;
let clock: TestClock;

useServices({ start: "2026-01-01T00:00:00Z" }, (fresh) => ({ db, services, clock } = fresh));

async function registered(overrides: Parameters<typeof newAccount>[0] = {}) {
  const account = newAccount(overrides);
  const result = await callerFor(services).auth.register(account);
  return { account, result, user: result.user };
}

/** Every message handed to the transport so far, once background deliveries are done. */
async function mailbox(of: Services = services): Promise<OutboxEntry[]> {
  await of.background.drain();
  if (!(of.mailer instanceof MemoryOutbox)) throw new Error("expected the in-memory outbox (DATA_DIR=:memory:)");
  return of.mailer.messages;
}

async function mailsTo(email: string, kind: "verify-email" | "reset-password"): Promise<OutboxEntry[]> {
  return (await mailbox()).filter((m) => m.to === email && new URL(m.link).pathname === `/${kind}`);
}

/** The token of the newest message of a kind sent to an address. */
async function latestToken(email: string, kind: "verify-email" | "reset-password"): Promise<string> {
  const mails = await mailsTo(email, kind);
  expect(mails.length).toBeGreaterThan(0);
  return new URL(mails.at(-1)!.link).searchParams.get("token")!;
}

async function requestReset(email: string): Promise<string> {
  await callerFor(services).auth.requestPasswordReset({ email });
  return latestToken(email.trim().toLowerCase(), "reset-password");
}

/** The types of a user's recorded events, sorted by name (events of one instant have no defined order). */
async function eventTypes(userId: string): Promise<string[]> {
  const events = await db.prisma.authEvent.findMany({ where: { userId }, select: { type: true } });
  return events.map((e) => e.type).sort();
}

/**
 * A transport that never finishes: whoever awaits it hangs. `reached` resolves
 * when a message gets to it, that is once the work before the mail is done.
 */
function hangingMailer(): { mailer: Mailer; reached: Promise<void> } {
  let arrived!: () => void;
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  const mailer: Mailer = {
    send: () => {
      arrived();
      return new Promise<void>(() => {});
    },
  };
  return { mailer, reached };
}
/** A transport that always fails, like an SMTP server refusing the connection. */
const failingMailer: Mailer = {
  send: () => Promise.reject(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:25"), { code: "ECONNECTION" })),
};

/** Services on the test database with a given transport and a logger whose lines the test can read. */
async function servicesWithMailer(mailer: Mailer) {
  const lines: string[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
  const custom = await createServices(testConfig(), { db, log, now: clock.now, mailer });
  return { services: custom, lines };
}

/** Resolves with the promise, or rejects when it takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms)),
  ]);
}

describe("auth.changePassword", () => {
  it("refuses a wrong current password and keeps the old one", async () => {
    const { account, result } = await registered();
    await expectTRPCError(
      callerFor(services, { token: result.accessToken }).auth.changePassword({ currentPassword: "not my password", newPassword: NEW_PASSWORD }),
      "FORBIDDEN",
      "CURRENT_PASSWORD_INVALID",
    );
    await callerFor(services).auth.login({ email: account.email, password: account.password });
    await callerFor(services, { token: result.accessToken }).auth.me();
  });

  it("applies the password policy to the new password", async () => {
    const { account, result } = await registered({ email: "margaret@example.com" });
    const caller = callerFor(services, { token: result.accessToken });
    for (const newPassword of ["password123", "Margaret-2026!"]) {
      await expectTRPCError(caller.auth.changePassword({ currentPassword: account.password, newPassword }), "BAD_REQUEST", "WEAK_PASSWORD");
    }
    await expectTRPCError(
      caller.auth.changePassword({ currentPassword: account.password, newPassword: "short" }),
      "BAD_REQUEST",
      "VALIDATION_FAILED",
    );
    await caller.auth.me();
  });

  it("returns a new session and revokes every other one, the caller's included", async () => {
    const { account, result: first, user } = await registered();
    const second = signedIn(await callerFor(services).auth.login({ email: account.email, password: account.password }));
    clock.advance(1);

    const changed = await callerFor(services, { token: first.accessToken }).auth.changePassword({
      currentPassword: account.password,
      newPassword: NEW_PASSWORD,
    });
    expect(changed).toMatchObject({ tokenType: "Bearer", expiresIn: 15 * 60, user });
    expect(changed.accessToken).not.toBe(first.accessToken);

    for (const old of [first, second]) {
      await expectTRPCError(callerFor(services, { token: old.accessToken }).auth.me(), "UNAUTHORIZED", "SESSION_REVOKED");
      await expectTRPCError(callerFor(services).auth.refresh({ refreshToken: old.refreshToken }), "UNAUTHORIZED", "REFRESH_TOKEN_INVALID");
    }
    const fresh = callerFor(services, { token: changed.accessToken });
    expect(await fresh.auth.me()).toEqual({ ...user, permissions: [], impersonatedBy: null });
    const sessions = await fresh.auth.sessions();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.current).toBe(true);
    await callerFor(services).auth.refresh({ refreshToken: changed.refreshToken });

    await expectTRPCError(
      callerFor(services).auth.login({ email: account.email, password: account.password }),
      "UNAUTHORIZED",
      "INVALID_CREDENTIALS",
    );
    await callerFor(services).auth.login({ email: account.email, password: NEW_PASSWORD });
    expect(await eventTypes(user.id)).toContain("password_changed");
  });

  it("lets only one of two racing changes through", async () => {
    const { account, result } = await registered();
    const caller = callerFor(services, { token: result.accessToken });
    const attempts = await Promise.allSettled([
      caller.auth.changePassword({ currentPassword: account.password, newPassword: "first new passphrase 1" }),
      caller.auth.changePassword({ currentPassword: account.password, newPassword: "second new passphrase 2" }),
    ]);
    const won = attempts.filter((a) => a.status === "fulfilled");
    expect(won).toHaveLength(1);
    const rejected = attempts.find((a): a is PromiseRejectedResult => a.status === "rejected");
    expect(rejected?.reason).toMatchObject({ appCode: "CURRENT_PASSWORD_INVALID" });
  });

  it("requires a bearer token", async () => {
    await expectTRPCError(
      callerFor(services).auth.changePassword({ currentPassword: "whatever it is", newPassword: NEW_PASSWORD }),
      "UNAUTHORIZED",
      "TOKEN_MISSING",
    );
  });
});

describe("auth.requestPasswordReset", () => {
  it("answers a known and an unknown email identically, and mails only the known one", async () => {
    const { account, user } = await registered();
    const known = await callerFor(services).auth.requestPasswordReset({ email: account.email });
    const unknown = await callerFor(services).auth.requestPasswordReset({ email: "nobody@example.com" });
    expect(known).toEqual({ success: true });
    expect(unknown).toEqual(known);

    const mails = await mailbox();
    expect(mails.filter((m) => m.to === "nobody@example.com")).toHaveLength(0);
    const [reset] = await mailsTo(account.email, "reset-password");
    expect(reset).toMatchObject({ to: account.email, subject: "Reset your password" });
    expect(reset!.link).toMatch(/^http:\/\/localhost:3000\/reset-password\?token=[\w-]+\.[\w-]{43}$/);
    expect(reset!.text).toContain(reset!.link);
    expect(await db.prisma.oneTimeToken.count({ where: { purpose: "password_reset" } })).toBe(1);
    expect(await eventTypes(user.id)).toEqual(["password_reset_requested", "register"]);
  });

  it("normalises the email like login does", async () => {
    const { account } = await registered({ email: "casey@example.com" });
    await callerFor(services).auth.requestPasswordReset({ email: "  CASEY@Example.com " });
    expect(await mailsTo(account.email, "reset-password")).toHaveLength(1);
  });

  it("refuses a malformed email with VALIDATION_FAILED", async () => {
    await expectTRPCError(callerFor(services).auth.requestPasswordReset({ email: "not-an-email" }), "BAD_REQUEST", "VALIDATION_FAILED");
  });

  it("does not wait on the mail transport", async () => {
    const { account } = await registered();
    const hanging = hangingMailer();
    const slow = await servicesWithMailer(hanging.mailer);
    const answer = await within(callerFor(slow.services).auth.requestPasswordReset({ email: account.email }), 5_000);
    expect(answer).toEqual({ success: true });
    // The token was written before the mail was handed over.
    await hanging.reached;
    expect(await db.prisma.oneTimeToken.count({ where: { purpose: "password_reset" } })).toBe(1);
  });

  it("keeps the token when the mail fails, and logs the failure with the request id", async () => {
    const { account } = await registered();
    const broken = await servicesWithMailer(failingMailer);
    const caller = createCaller(createContextInner({ services: broken.services, requestId: "req-reset-1", meta: { ip: "127.0.0.1" } }));
    expect(await caller.auth.requestPasswordReset({ email: account.email })).toEqual({ success: true });
    await broken.services.background.drain();
    expect(await db.prisma.oneTimeToken.count({ where: { purpose: "password_reset" } })).toBe(1);
    const failure = broken.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "background task failed");
    expect(failure).toMatchObject({ requestId: "req-reset-1", task: "password reset mail", err: { code: "ECONNECTION" } });
  });
});

describe("auth.resetPassword", () => {
  it("sets the new password, revokes every session and spends the token", async () => {
    const { account, result, user } = await registered();
    const other = signedIn(await callerFor(services).auth.login({ email: account.email, password: account.password }));
    const token = await requestReset(account.email);

    expect(await callerFor(services).auth.resetPassword({ token, newPassword: NEW_PASSWORD })).toEqual({ success: true });

    for (const session of [result, other]) {
      await expectTRPCError(callerFor(services, { token: session.accessToken }).auth.me(), "UNAUTHORIZED", "SESSION_REVOKED");
      await expectTRPCError(callerFor(services).auth.refresh({ refreshToken: session.refreshToken }), "UNAUTHORIZED", "REFRESH_TOKEN_INVALID");
    }
    await expectTRPCError(
      callerFor(services).auth.login({ email: account.email, password: account.password }),
      "UNAUTHORIZED",
      "INVALID_CREDENTIALS",
    );
    await callerFor(services).auth.login({ email: account.email, password: NEW_PASSWORD });
    await expectTRPCError(
      callerFor(services).auth.resetPassword({ token, newPassword: "yet another passphrase 7" }),
      "BAD_REQUEST",
      "RESET_TOKEN_INVALID",
    );
    expect(await eventTypes(user.id)).toContain("password_reset");
  });

  it("refuses the token once an hour has passed, and accepts it just before", async () => {
    const { account } = await registered();
    const token = await requestReset(account.email);
    clock.advance(HOUR + 1);
    await expectTRPCError(callerFor(services).auth.resetPassword({ token, newPassword: NEW_PASSWORD }), "BAD_REQUEST", "RESET_TOKEN_INVALID");

    const fresh = await requestReset(account.email);
    clock.advance(HOUR - 5);
    await callerFor(services).auth.resetPassword({ token: fresh, newPassword: NEW_PASSWORD });
  });

  it("retires the older token when a new one is requested", async () => {
    const { account } = await registered();
    const older = await requestReset(account.email);
    clock.advance(60);
    const newer = await requestReset(account.email);
    expect(newer).not.toBe(older);
    await expectTRPCError(callerFor(services).auth.resetPassword({ token: older, newPassword: NEW_PASSWORD }), "BAD_REQUEST", "RESET_TOKEN_INVALID");
    await callerFor(services).auth.resetPassword({ token: newer, newPassword: NEW_PASSWORD });
  });

  it("applies the password policy and leaves the token usable for another try", async () => {
    const { account } = await registered({ email: "winston@example.com" });
    const token = await requestReset(account.email);
    for (const newPassword of ["password123", "xxWinston123"]) {
      await expectTRPCError(callerFor(services).auth.resetPassword({ token, newPassword }), "BAD_REQUEST", "WEAK_PASSWORD");
    }
    await expectTRPCError(callerFor(services).auth.resetPassword({ token, newPassword: "short" }), "BAD_REQUEST", "VALIDATION_FAILED");
    await callerFor(services).auth.resetPassword({ token, newPassword: NEW_PASSWORD });
  });

  it("refuses garbage, forged and wrong-purpose tokens", async () => {
    const { account } = await registered();
    const token = await requestReset(account.email);
    const verification = await latestToken(account.email, "verify-email");
    const [id, secret] = token.split(".") as [string, string];
    const forged = [
      "garbage",
      `${id}.${"A".repeat(43)}`,
      `${id}.${secret}x`,
      `00000000-0000-4000-8000-000000000000.${secret}`,
      `${id.toUpperCase()}.${secret}`,
      verification,
    ];
    for (const candidate of forged) {
      await expectTRPCError(callerFor(services).auth.resetPassword({ token: candidate, newPassword: NEW_PASSWORD }), "BAD_REQUEST", "RESET_TOKEN_INVALID");
    }
    await callerFor(services).auth.resetPassword({ token, newPassword: NEW_PASSWORD });
  });

  it("never lets two racing resets with one token both succeed", async () => {
    const { account } = await registered();
    const token = await requestReset(account.email);
    const attempts = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => callerFor(services).auth.resetPassword({ token, newPassword: `racing passphrase number ${i}` })),
    );
    expect(attempts.filter((a) => a.status === "fulfilled")).toHaveLength(1);
    for (const a of attempts) if (a.status === "rejected") expect(a.reason).toMatchObject({ appCode: "RESET_TOKEN_INVALID" });
  });

  it("does not deadlock when a reset and a new reset request for one user race", async () => {
    const { account } = await registered();
    const watched = await servicesWithMailer(new MemoryOutbox(silentLog, clock.now));
    const caller = callerFor(watched.services);
    for (let round = 0; round < 20; round++) {
      await caller.auth.requestPasswordReset({ email: account.email });
      await watched.services.background.drain();
      const token = new URL((watched.services.mailer as MemoryOutbox).messages.at(-1)!.link).searchParams.get("token")!;
      const [reset] = await Promise.allSettled([
        caller.auth.resetPassword({ token, newPassword: `racing passphrase round ${round}` }),
        caller.auth.requestPasswordReset({ email: account.email }),
      ]);
      // Either the reset won, or the newer request retired its token first.
      if (reset.status === "rejected") expect(reset.reason).toMatchObject({ appCode: "RESET_TOKEN_INVALID" });
      await watched.services.background.drain();
    }
    expect(watched.lines.filter((l) => l.includes("background task failed"))).toEqual([]);
  });

  it("stores reset and verification tokens only as hashes", async () => {
    const { account } = await registered();
    const secrets = [await requestReset(account.email), await latestToken(account.email, "verify-email")].map((t) => t.split(".")[1]!);
    const rows = await db.prisma.$queryRawUnsafe<Array<{ row: string }>>("SELECT row_to_json(t)::text AS row FROM one_time_tokens t");
    expect(rows).toHaveLength(2);
    for (const { row } of rows) for (const secret of secrets) expect(row).not.toContain(secret);
  });
});

describe("email verification", () => {
  it("sends one verification mail on registration, with the name escaped in HTML", async () => {
    const { account } = await registered({ name: `<b>Bo</b> & "Co"` });
    const mails = await mailsTo(account.email, "verify-email");
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ subject: "Confirm your email address", sentAt: clock.now().toISOString() });
    expect(mails[0]!.link).toMatch(/^http:\/\/localhost:3000\/verify-email\?token=[\w-]+\.[\w-]{43}$/);
    expect(mails[0]!.text).toContain(`Hi <b>Bo</b> & "Co"`);
    const sent = (services.mailer as MemoryOutbox).messages.length;
    expect(sent).toBe(1);
  });

  it("verifies the address once, then refuses the token", async () => {
    const { account, result, user } = await registered();
    const token = await latestToken(account.email, "verify-email");
    const verified = await callerFor(services).auth.verifyEmail({ token });
    expect(verified).toEqual({ ...user, emailVerified: true });
    expect(Object.keys(verified).sort()).toEqual(["createdAt", "email", "emailVerified", "id", "name", "roles", "twoFactorEnabled"]);
    expect((await callerFor(services, { token: result.accessToken }).auth.me()).emailVerified).toBe(true);
    await expectTRPCError(callerFor(services).auth.verifyEmail({ token }), "BAD_REQUEST", "VERIFICATION_TOKEN_INVALID");
    expect(await eventTypes(user.id)).toEqual(["email_verified", "register"]);
  });

  it("refuses the token after 24 hours", async () => {
    const { account, user } = await registered();
    const token = await latestToken(account.email, "verify-email");
    clock.advance(24 * HOUR + 1);
    await expectTRPCError(callerFor(services).auth.verifyEmail({ token }), "BAD_REQUEST", "VERIFICATION_TOKEN_INVALID");
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).emailVerified).toBe(false);
  });

  it("refuses garbage and reset tokens", async () => {
    const { account } = await registered();
    const reset = await requestReset(account.email);
    for (const token of ["garbage", "x".repeat(512), reset, `${reset.split(".")[0]}.${"B".repeat(43)}`]) {
      await expectTRPCError(callerFor(services).auth.verifyEmail({ token }), "BAD_REQUEST", "VERIFICATION_TOKEN_INVALID");
    }
    await expectTRPCError(callerFor(services).auth.verifyEmail({ token: "" }), "BAD_REQUEST", "VALIDATION_FAILED");
  });

  it("requestEmailVerification sends a new link and retires the older one", async () => {
    const { account, result } = await registered();
    const older = await latestToken(account.email, "verify-email");
    clock.advance(1);
    expect(await callerFor(services, { token: result.accessToken }).auth.requestEmailVerification()).toEqual({ success: true });
    const newer = await latestToken(account.email, "verify-email");
    expect(newer).not.toBe(older);
    await expectTRPCError(callerFor(services).auth.verifyEmail({ token: older }), "BAD_REQUEST", "VERIFICATION_TOKEN_INVALID");
    expect((await callerFor(services).auth.verifyEmail({ token: newer })).emailVerified).toBe(true);
  });

  it("requestEmailVerification on a verified address answers success and sends nothing", async () => {
    const { account, result } = await registered();
    await callerFor(services).auth.verifyEmail({ token: await latestToken(account.email, "verify-email") });
    // The session resolves the user live, so the caller is seen as verified now.
    expect(await callerFor(services, { token: result.accessToken }).auth.requestEmailVerification()).toEqual({ success: true });
    expect(await mailsTo(account.email, "verify-email")).toHaveLength(1);
    expect(await db.prisma.oneTimeToken.count({ where: { purpose: "email_verification", usedAt: null } })).toBe(0);
  });

  it("requestEmailVerification requires a bearer token", async () => {
    await expectTRPCError(callerFor(services).auth.requestEmailVerification(), "UNAUTHORIZED", "TOKEN_MISSING");
  });

  it("registers even when the mail transport fails or hangs, and keeps the token", async () => {
    const hanging = hangingMailer();
    for (const mailer of [failingMailer, hanging.mailer]) {
      const custom = await servicesWithMailer(mailer);
      const account = newAccount();
      const result = await within(callerFor(custom.services).auth.register(account), 5_000);
      expect(result.user.email).toBe(account.email);
      const tokens = await db.prisma.oneTimeToken.count({ where: { userId: result.user.id, purpose: "email_verification" } });
      expect(tokens).toBe(1);
    }
    await hanging.reached;
  });
});

describe("auth.deleteAccount", () => {
  it("refuses a wrong password and keeps the account", async () => {
    const { result, user } = await registered();
    await expectTRPCError(
      callerFor(services, { token: result.accessToken }).auth.deleteAccount({ password: "not my password" }),
      "FORBIDDEN",
      "CURRENT_PASSWORD_INVALID",
    );
    expect(await db.prisma.user.count({ where: { id: user.id } })).toBe(1);
  });

  it("removes the user and every row that belongs to it, and nobody else's", async () => {
    const bystander = await registered();
    const { account, result, user } = await registered();
    const second = signedIn(await callerFor(services).auth.login({ email: account.email, password: account.password }));
    const rotated = await callerFor(services).auth.refresh({ refreshToken: second.refreshToken });
    await requestReset(account.email);
    const sessionIds = (await db.prisma.session.findMany({ where: { userId: user.id }, select: { id: true } })).map((s) => s.id);
    expect(sessionIds).toHaveLength(2);

    const answer = await callerFor(services, { token: result.accessToken }).auth.deleteAccount({ password: account.password });
    expect(answer).toEqual({ success: true });

    const counts = await db.prisma.$queryRaw<Array<Record<string, bigint>>>`
      SELECT (SELECT count(*) FROM users WHERE id = ${user.id}::uuid) AS users,
             (SELECT count(*) FROM sessions WHERE user_id = ${user.id}::uuid) AS sessions,
             (SELECT count(*) FROM refresh_tokens WHERE session_id::text = ANY(${sessionIds})) AS refresh_tokens,
             (SELECT count(*) FROM one_time_tokens WHERE user_id = ${user.id}::uuid) AS one_time_tokens,
             (SELECT count(*) FROM auth_events WHERE user_id = ${user.id}::uuid) AS auth_events`;
    expect(Object.values(counts[0]!).map(Number)).toEqual([0, 0, 0, 0, 0]);
    expect(await db.prisma.session.count({ where: { userId: bystander.user.id } })).toBe(1);
    expect(await db.prisma.oneTimeToken.count({ where: { userId: bystander.user.id } })).toBe(1);

    for (const token of [result.accessToken, rotated.accessToken]) {
      await expectTRPCError(callerFor(services, { token }).auth.me(), "UNAUTHORIZED", "SESSION_REVOKED");
    }
    await expectTRPCError(callerFor(services).auth.refresh({ refreshToken: rotated.refreshToken }), "UNAUTHORIZED", "REFRESH_TOKEN_INVALID");
    await expectTRPCError(
      callerFor(services).auth.login({ email: account.email, password: account.password }),
      "UNAUTHORIZED",
      "INVALID_CREDENTIALS",
    );
    // The address is free again.
    await callerFor(services).auth.register({ ...account, name: "Returning" });
  });

  it("requires a bearer token and a password", async () => {
    await expectTRPCError(callerFor(services).auth.deleteAccount({ password: "anything at all" }), "UNAUTHORIZED", "TOKEN_MISSING");
    const { result } = await registered();
    await expectTRPCError(
      callerFor(services, { token: result.accessToken }).auth.deleteAccount({ password: "" }),
      "BAD_REQUEST",
      "VALIDATION_FAILED",
    );
  });
});

describe("auth.activity", () => {
  it("lists the user's own events newest first, with where they came from", async () => {
    const { account, result } = await registered();
    await registered(); // someone else's events stay out
    clock.advance(1);
    await expectTRPCError(
      callerFor(services, { ip: "203.0.113.9", userAgent: "curl/8" }).auth.login({ email: account.email, password: "wrong password!" }),
      "UNAUTHORIZED",
      "INVALID_CREDENTIALS",
    );
    clock.advance(1);
    const login = signedIn(await callerFor(services, { ip: "198.51.100.7", userAgent: "firefox" }).auth.login({ email: account.email, password: account.password }));
    clock.advance(1);
    await callerFor(services).auth.refresh({ refreshToken: login.refreshToken });
    clock.advance(1);
    await callerFor(services, { token: login.accessToken }).auth.logout();

    const activity = await callerFor(services, { token: result.accessToken }).auth.activity();
    expect(activity.map((e) => e.type)).toEqual(["logout", "refresh", "login", "login_failed", "register"]);
    expect(activity[2]).toEqual({ type: "login", at: new Date("2026-01-01T00:00:02Z"), ip: "198.51.100.7", userAgent: "firefox" });
    expect(activity[3]).toMatchObject({ type: "login_failed", ip: "203.0.113.9", userAgent: "curl/8" });
    for (const event of activity) expect(Object.keys(event).sort()).toEqual(["at", "ip", "type", "userAgent"]);
  });

  it("returns at most the 50 newest events", async () => {
    const { result, user } = await registered();
    await db.prisma.authEvent.createMany({
      data: Array.from({ length: 60 }, (_, i) => ({ userId: user.id, type: "login_failed", at: new Date(Date.UTC(2026, 0, 2, 0, 0, i)) })),
    });
    const activity = await callerFor(services, { token: result.accessToken }).auth.activity();
    expect(activity).toHaveLength(50);
    expect(activity[0]!.at).toEqual(new Date(Date.UTC(2026, 0, 2, 0, 0, 59)));
    expect(activity.at(-1)!.at).toEqual(new Date(Date.UTC(2026, 0, 2, 0, 0, 10)));
  });

  it("never contains a password or a token", async () => {
    const { account, result } = await registered();
    const secrets = [account.password, NEW_PASSWORD, "the wrong one!", result.accessToken, result.refreshToken];
    clock.advance(1);
    await callerFor(services).auth.login({ email: account.email, password: "the wrong one!" }).catch(() => {});
    clock.advance(1);
    const verification = await latestToken(account.email, "verify-email");
    await callerFor(services).auth.verifyEmail({ token: verification });
    clock.advance(1);
    const reset = await requestReset(account.email);
    clock.advance(1);
    await callerFor(services).auth.resetPassword({ token: reset, newPassword: NEW_PASSWORD });
    clock.advance(1);
    const login = signedIn(await callerFor(services).auth.login({ email: account.email, password: NEW_PASSWORD }));
    clock.advance(1);
    const changed = await callerFor(services, { token: login.accessToken }).auth.changePassword({
      currentPassword: NEW_PASSWORD,
      newPassword: "the third passphrase 3",
    });
    secrets.push(verification, reset, login.accessToken, login.refreshToken, "the third passphrase 3");
    for (const token of [verification, reset, login.refreshToken, result.refreshToken]) secrets.push(token.split(".")[1]!);

    const activity = await callerFor(services, { token: changed.accessToken }).auth.activity();
    expect(activity.map((e) => e.type)).toEqual([
      "password_changed",
      "login",
      "password_reset",
      "password_reset_requested",
      "email_verified",
      "login_failed",
      "register",
    ]);
    const text = JSON.stringify(activity);
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});

describe("user.updateProfile", () => {
  it("trims and stores the name, and returns the user", async () => {
    const { result, user } = await registered();
    const caller = callerFor(services, { token: result.accessToken });
    const updated = await caller.user.updateProfile({ name: "  Ada Lovelace  " });
    expect(updated).toEqual({ ...user, name: "Ada Lovelace" });
    expect(Object.keys(updated).sort()).toEqual(["createdAt", "email", "emailVerified", "id", "name", "roles", "twoFactorEnabled"]);
    expect(await caller.auth.me()).toEqual({ ...updated, permissions: [], impersonatedBy: null });
  });

  it("refuses empty, long and control-character names", async () => {
    const { result, user } = await registered();
    const caller = callerFor(services, { token: result.accessToken });
    for (const name of ["", "   ", "x".repeat(101), "tab\there", "new\nline", "nul\u0000", "bell\u0007"]) {
      const error = await expectTRPCError(caller.user.updateProfile({ name }), "BAD_REQUEST", "VALIDATION_FAILED");
      expect(error.cause).toBeDefined();
    }
    expect(await caller.user.updateProfile({ name: "x".repeat(100) })).toMatchObject({ name: "x".repeat(100) });
    expect(await caller.user.updateProfile({ name: "Zoë 李" })).toMatchObject({ id: user.id, name: "Zoë 李" });
  });

  it("ignores keys it does not define", async () => {
    const { result, user } = await registered();
    const input = { name: "Mallory", email: "admin@example.com", emailVerified: true, id: "x", role: "admin" };
    const updated = await callerFor(services, { token: result.accessToken }).user.updateProfile(input);
    expect(updated).toEqual({ ...user, name: "Mallory" });
  });

  it("requires a bearer token", async () => {
    await expectTRPCError(callerFor(services).user.updateProfile({ name: "Eve" }), "UNAUTHORIZED", "TOKEN_MISSING");
  });
});
