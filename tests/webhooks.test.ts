/**
 * Signed webhooks end to end in one process: changes made through the
 * procedures, the outbox rows the database triggers write, the worker, and a
 * real HTTP receiver on port 0 that verifies every signature with the
 * `standardwebhooks` package (independent of the code that signed).
 */
import { spawn } from "node:child_process";
import { verifyWebhook } from "gatehouse/webhooks";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../server/db/database.ts";
import type { Services } from "../server/services.ts";
import { redeliver } from "../server/webhooks/deliveries.ts";
import { createWebhook } from "../server/webhooks/endpoints.ts";
import { claimDueDeliveries } from "../server/webhooks/outbox.ts";
import { WEBHOOK_EVENT_SCHEMAS, WEBHOOK_EVENT_TYPES, WebhookEvent, type WebhookEventType } from "../server/webhooks/payloads.ts";
import { isPublicAddress } from "../server/webhooks/target.ts";
import { DEFAULT_RETRY_BASE_MS, MAX_ATTEMPTS, retryDelayMs, retryWindowMs } from "../server/webhooks/schedule.ts";
import { callerFor, newAccount, signedIn } from "./helpers/caller.ts";
import { openTestDatabase, resetDatabase } from "./helpers/database.ts";
import { expectTRPCError } from "./helpers/errors.ts";
import { TestClock, testServices } from "./helpers/services.ts";
import { totpCode } from "./helpers/totp.ts";
import { startReceiver, until, type Receiver } from "./helpers/webhook-receiver.ts";

let db: Database;
let receiver: Receiver;
const opened: Services[] = [];

beforeAll(async () => {
  db = await openTestDatabase();
  receiver = await startReceiver();
});

beforeEach(async () => {
  await resetDatabase(db);
  receiver.requests.length = 0;
  receiver.answer = () => 204;
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function servicesFor(options: Parameters<typeof testServices>[1] = {}): Promise<Services> {
  const services = await testServices(db, options);
  opened.push(services);
  return services;
}

/** An endpoint on the receiver for the given events (all by default). */
function subscribe(services: Services, events: readonly WebhookEventType[] = WEBHOOK_EVENT_TYPES, url = receiver.url) {
  return createWebhook(services, { url, events: [...events] }, null);
}

/** The receiver's requests whose signature the reference verifier accepts, parsed by the event schema. */
function verifiedEvents(secret: string) {
  const verifier = new Webhook(secret);
  return receiver.requests.map((request) => ({ id: request.headers["webhook-id"]!, event: WebhookEvent.parse(verifier.verify(request.body, request.headers)) }));
}

async function deliveryStatuses(): Promise<string[]> {
  return (await db.prisma.webhookDelivery.findMany({ select: { status: true } })).map((d) => d.status);
}

describe("the outbox", () => {
  it("writes one delivery per subscribed endpoint in the transaction of the change, and none for a change rolled back", async () => {
    const services = await servicesFor();
    await subscribe(services, ["user.created"]);
    await subscribe(services, ["user.created", "session.created"]);
    await subscribe(services, ["mfa.enabled"]);
    await expect(
      db.prisma.$transaction(async (tx) => {
        await tx.user.create({ data: { email: "rolled-back@example.com", name: "R", passwordHash: "x" } });
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await db.prisma.webhookDelivery.count()).toBe(0);

    const { user } = await callerFor(services).auth.register(newAccount());
    const rows = await db.prisma.webhookDelivery.findMany({ select: { eventType: true, eventId: true, payload: true } });
    expect(rows.map((r) => r.eventType).sort()).toEqual(["session.created", "user.created", "user.created"]);
    const created = rows.filter((r) => r.eventType === "user.created");
    // One event, two endpoints: one event id.
    expect(created[0]!.eventId).toBe(created[1]!.eventId);
    expect(WEBHOOK_EVENT_SCHEMAS["user.created"].parse(created[0]!.payload).data).toEqual({ userId: user.id, email: user.email });
  });

  it("reports every event type through the procedures that cause it", async () => {
    const services = await servicesFor();
    const { secret } = await subscribe(services);
    await services.webhooks.start();
    const account = newAccount();
    const caller = callerFor(services);
    const registered = await caller.auth.register(account);
    const me = callerFor(services, { token: registered.accessToken });
    await services.background.drain();
    const verification = await db.prisma.oneTimeToken.count({ where: { userId: registered.user.id, purpose: "email_verification" } });
    expect(verification).toBe(1);
    const setup = await me.mfa.totpSetup({ password: account.password });
    await me.mfa.totpEnable({ code: totpCode(setup.secret, new Date()) });
    await me.mfa.totpDisable({ password: account.password, code: totpCode(setup.secret, new Date(Date.now() + 30_000)) });
    const changed = await me.auth.changePassword({ currentPassword: account.password, newPassword: "another long passphrase 42" });
    const other = signedIn(await caller.auth.login({ email: account.email, password: "another long passphrase 42" }));
    await callerFor(services, { token: other.accessToken }).auth.logout();
    await callerFor(services, { token: changed.accessToken }).auth.deleteAccount({ password: "another long passphrase 42" });
    // An admin disables another account: user.disabled, and the revocation of its session.
    const target = await caller.auth.register(newAccount());
    const admin = await caller.auth.register(newAccount());
    await db.prisma.user.update({ where: { id: admin.user.id }, data: { roles: ["admin"] } });
    await callerFor(services, { token: admin.accessToken }).admin.disableUser({ userId: target.user.id, reason: "webhook test" });

    const expected: WebhookEventType[] = [
      "user.created",
      "session.created",
      "mfa.enabled",
      "mfa.disabled",
      "password.changed",
      "session.revoked",
      "session.created",
      "session.created",
      "session.revoked",
      "user.deleted",
    ];
    const ofTarget: WebhookEventType[] = ["user.created", "session.created", "user.disabled", "session.revoked"];
    const ofAdmin: WebhookEventType[] = ["user.created", "session.created"];
    const total = expected.length + ofTarget.length + ofAdmin.length;
    await until(async () => (await deliveryStatuses()).filter((s) => s === "succeeded").length === total, 10_000, "every event delivered");
    const all = verifiedEvents(secret).map(({ event }) => event);
    const typesOf = (userId: string) => all.filter((e) => e.data.userId === userId).map((e) => e.type).sort();
    expect(all).toHaveLength(total);
    expect(typesOf(target.user.id)).toEqual([...ofTarget].sort());
    expect(typesOf(admin.user.id)).toEqual([...ofAdmin].sort());
    const events = all.filter((e) => e.data.userId === registered.user.id);
    expect(events.map((e) => e.type).sort()).toEqual([...expected].sort());
    expect(events.find((e) => e.type === "user.created")!.data).toEqual({ userId: registered.user.id, email: account.email });
    expect(await deliveryStatuses()).toEqual(Array(total).fill("succeeded"));
  });

  it("reports email.verified with the address", async () => {
    const services = await servicesFor();
    await subscribe(services, ["email.verified"]);
    const account = newAccount();
    const registered = await callerFor(services).auth.register(account);
    await services.background.drain();
    const mail = (services.mailer as unknown as { messages: { to: string; link: string }[] }).messages.find((m) => m.to === account.email)!;
    await callerFor(services).auth.verifyEmail({ token: new URL(mail.link).searchParams.get("token")! });
    const rows = await db.prisma.webhookDelivery.findMany({ select: { eventType: true, payload: true } });
    expect(rows).toHaveLength(1);
    expect(WEBHOOK_EVENT_SCHEMAS["email.verified"].parse(rows[0]!.payload).data).toEqual({ userId: registered.user.id, email: account.email });
  });
});

describe("delivery", () => {
  it("signs each delivery so that the standardwebhooks verifier accepts it, and a wrong secret does not", async () => {
    const services = await servicesFor();
    const { secret } = await subscribe(services, ["user.created"]);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await services.webhooks.start();
    const { user } = await callerFor(services).auth.register(newAccount());
    await until(() => receiver.requests.length === 1, 5_000, "the delivery");
    const [request] = receiver.requests;
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(Number(request!.headers["webhook-timestamp"])).toBeCloseTo(Date.now() / 1000, -1);
    const { id, event } = verifiedEvents(secret)[0]!;
    expect(event).toEqual({ type: "user.created", timestamp: expect.any(String), data: { userId: user.id, email: user.email } });
    expect(id).toBe((await db.prisma.webhookDelivery.findFirstOrThrow()).eventId);
    expect(Object.keys(JSON.parse(request!.body))).toEqual(["type", "timestamp", "data"]);
    // The receivers' export agrees.
    expect(verifyWebhook(secret, request!.body, request!.headers)).toEqual(event);
    const other = new Webhook(`whsec_${Buffer.alloc(32, 1).toString("base64")}`);
    expect(() => other.verify(request!.body, request!.headers)).toThrow();
    expect(() => new Webhook(secret).verify(request!.body.replace(user.id, "00000000-0000-4000-8000-000000000000"), request!.headers)).toThrow();
  });

  it("delivers every event once the receiver recovers from failing, and records each attempt", async () => {
    const services = await servicesFor({ webhookRetryBaseMs: 20 });
    const { secret } = await subscribe(services, ["user.created"]);
    // The first three attempts of every delivery fail: 500, 503, then a dropped connection.
    const seen = new Map<string, number>();
    receiver.answer = (request) => {
      const id = request.headers["webhook-id"]!;
      const count = (seen.get(id) ?? 0) + 1;
      seen.set(id, count);
      return count === 1 ? 500 : count === 2 ? 503 : count === 3 ? 429 : 200;
    };
    await services.webhooks.start();
    const users = [];
    for (let i = 0; i < 10; i++) users.push((await callerFor(services).auth.register(newAccount())).user.id);
    await until(async () => (await deliveryStatuses()).every((s) => s === "succeeded"), 20_000, "every delivery succeeded");
    expect(new Set(verifiedEvents(secret).map(({ event }) => event.data.userId))).toEqual(new Set(users));
    expect([...seen.values()]).toEqual(Array(10).fill(4));
    const attempts = await db.prisma.webhookAttempt.findMany({ orderBy: { startedAt: "asc" } });
    expect(attempts).toHaveLength(40);
    expect(attempts.map((a) => a.statusCode).sort()).toEqual([...Array(10).fill(200), ...Array(10).fill(429), ...Array(10).fill(500), ...Array(10).fill(503)]);
    const failed = attempts.find((a) => a.statusCode === 500)!;
    expect(failed).toMatchObject({ error: "HTTP 500", response: "failing on purpose (500)" });
    expect(failed.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("retries on the schedule (first within 10 s, at least 24 h in all), then marks the delivery failed", async () => {
    expect(retryDelayMs(1, DEFAULT_RETRY_BASE_MS, () => 1)).toBeLessThanOrEqual(10_000);
    expect(retryWindowMs(DEFAULT_RETRY_BASE_MS)).toBeGreaterThanOrEqual(24 * 3600 * 1000);
    const clock = new TestClock();
    const services = await servicesFor({ clock });
    await subscribe(services, ["user.created"]);
    receiver.answer = () => 500;
    await callerFor(services).auth.register(newAccount());
    // The row is due from the database's time of the write; the test's clock stood still meanwhile.
    clock.advance(1);
    const gaps: number[] = [];
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      services.webhooks.wake();
      await until(async () => (await db.prisma.webhookAttempt.count()) === attempt, 5_000, `attempt ${attempt}`);
      await until(async () => (await db.prisma.webhookDelivery.findFirstOrThrow()).status !== "delivering", 5_000, "attempt settled");
      const delivery = await db.prisma.webhookDelivery.findFirstOrThrow();
      if (attempt < MAX_ATTEMPTS) {
        expect(delivery.status).toBe("pending");
        const gap = delivery.nextAttemptAt.getTime() - clock.now().getTime();
        gaps.push(gap);
        clock.advance(gap / 1000);
      } else {
        expect(delivery.status).toBe("failed");
      }
    }
    expect(receiver.requests).toHaveLength(MAX_ATTEMPTS);
    expect(gaps[0]).toBeGreaterThanOrEqual(DEFAULT_RETRY_BASE_MS);
    expect(gaps[0]).toBeLessThanOrEqual(10_000);
    expect(gaps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(24 * 3600 * 1000);
    // Failed is final: nothing more comes however long the worker runs.
    clock.advance(7 * 24 * 3600);
    services.webhooks.wake();
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.requests).toHaveLength(MAX_ATTEMPTS);
  });

  it("attempts a delivery again when the claim of a worker that died runs out", async () => {
    const clock = new TestClock();
    const services = await servicesFor({ clock });
    const { secret } = await subscribe(services, ["user.created"]);
    await callerFor(services).auth.register(newAccount());
    clock.advance(1);
    // A worker claims the delivery and dies before it posts anything.
    const [claimed] = await claimDueDeliveries(db.prisma, clock.now(), services.webhooks.leaseMs, 10);
    expect(claimed).toBeDefined();
    await services.webhooks.start();
    services.webhooks.wake();
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.requests).toHaveLength(0);
    clock.advance(services.webhooks.leaseMs / 1000 + 1);
    services.webhooks.wake();
    await until(() => receiver.requests.length === 1, 5_000, "the delivery after the lease");
    expect(verifiedEvents(secret)[0]!.id).toBe(claimed!.eventId);
    await until(async () => (await deliveryStatuses())[0] === "succeeded", 5_000, "succeeded");
  });

  it("does not follow a redirect: the attempt fails and the other target gets nothing", async () => {
    const services = await servicesFor({ webhookRetryBaseMs: 60_000 });
    const elsewhere = await startReceiver();
    const redirecting = await startReceiver({ redirectTo: elsewhere.url });
    redirecting.answer = () => 307;
    await subscribe(services, ["user.created"], redirecting.url);
    await services.webhooks.start();
    await callerFor(services).auth.register(newAccount());
    await until(async () => (await db.prisma.webhookAttempt.count()) === 1, 5_000, "the attempt");
    expect((await db.prisma.webhookAttempt.findFirstOrThrow()).error).toBe("redirect not followed (HTTP 307)");
    expect(elsewhere.requests).toHaveLength(0);
  });

  it("keeps no more than a 200-character snippet of the answer", async () => {
    const services = await servicesFor({ webhookRetryBaseMs: 60_000 });
    await subscribe(services, ["user.created"]);
    receiver.answer = () => ({ status: 400, body: "x".repeat(100_000) });
    await services.webhooks.start();
    await callerFor(services).auth.register(newAccount());
    await until(async () => (await db.prisma.webhookAttempt.count()) === 1, 5_000, "the attempt");
    expect(await db.prisma.webhookAttempt.findFirstOrThrow()).toMatchObject({ statusCode: 400, error: "HTTP 400", response: "x".repeat(200) });
  });

  it("shows the outbox in /metrics as gatehouse_webhook_backlog by state", async () => {
    const services = await servicesFor({ webhookRetryBaseMs: 60_000 });
    await subscribe(services, ["user.created", "session.created"]);
    receiver.answer = () => 500;
    await callerFor(services).auth.register(newAccount());
    const backlog = async () => {
      const text = await services.observability.metrics.text();
      return Object.fromEntries([...text.matchAll(/^gatehouse_webhook_backlog\{state="(\w+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
    };
    expect(await backlog()).toEqual({ pending: 2, delivering: 0, failed: 0 });
    await services.webhooks.start();
    await until(async () => (await db.prisma.webhookAttempt.count()) === 2, 5_000, "both attempts");
    await until(async () => (await backlog()).delivering === 0, 5_000, "settled");
    expect(await backlog()).toEqual({ pending: 2, delivering: 0, failed: 0 });
    await db.prisma.webhookDelivery.updateMany({ data: { status: "failed" } });
    expect(await backlog()).toEqual({ pending: 0, delivering: 0, failed: 2 });
  });

  it("gives up an attempt at WEBHOOK_TIMEOUT_MS", async () => {
    const services = await servicesFor({ env: { WEBHOOK_TIMEOUT_MS: "300" }, webhookRetryBaseMs: 60_000 });
    await subscribe(services, ["user.created"]);
    receiver.answer = () => "hang";
    await services.webhooks.start();
    await callerFor(services).auth.register(newAccount());
    await until(async () => (await db.prisma.webhookAttempt.count()) === 1, 5_000, "the timed-out attempt");
    const attempt = await db.prisma.webhookAttempt.findFirstOrThrow();
    expect(attempt).toMatchObject({ statusCode: null, error: "timed out after 300 ms", response: null });
    expect(attempt.durationMs).toBeGreaterThanOrEqual(290);
    expect(attempt.durationMs).toBeLessThan(2_000);
  });
});

describe("targets in production", () => {
  const production = { NODE_ENV: "production", BCRYPT_COST: "10" };

  it.each([
    ["8.8.8.8", true],
    ["2606:4700:4700::1111", true],
    ["::ffff:8.8.8.8", true],
    ["127.0.0.1", false],
    ["10.1.2.3", false],
    ["172.16.0.1", false],
    ["192.168.1.1", false],
    ["169.254.169.254", false],
    ["100.64.0.1", false],
    ["0.0.0.0", false],
    ["::1", false],
    ["::", false],
    ["fe80::1", false],
    ["fc00::1", false],
    ["fd12:3456::1", false],
    ["::ffff:127.0.0.1", false],
    ["::ffff:7f00:1", false],
    ["::ffff:169.254.169.254", false],
    ["::127.0.0.1", false],
    ["ff02::1", false],
  ])("judges %s public: %s", (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });

  it.each([
    "http://127.0.0.1:8080/hooks",
    "http://localhost/hooks",
    "http://[::1]/hooks",
    "http://[::ffff:127.0.0.1]/hooks",
    "http://169.254.169.254/latest/meta-data",
    "https://10.0.0.5/hooks",
    "http://[fe80::1]/hooks",
  ])("refuses to create an endpoint at %s with WEBHOOK_URL_REFUSED, and stores nothing", async (url) => {
    const services = await servicesFor({ env: production });
    const error = await expectTRPCError(createWebhook(services, { url, events: ["user.created"] }, null), "BAD_REQUEST", "WEBHOOK_URL_REFUSED");
    expect(error.message).toMatch(/^Webhook URL refused: .* is not a public address/);
    expect(await db.prisma.webhook.count()).toBe(0);
  });

  it("refuses a name that does not resolve", async () => {
    const services = await servicesFor({ env: production, resolveHost: () => Promise.reject(Object.assign(new Error("nx"), { code: "ENOTFOUND" })) });
    const error = await expectTRPCError(createWebhook(services, { url: "https://nowhere.example/hooks", events: ["user.created"] }, null), "BAD_REQUEST", "WEBHOOK_URL_REFUSED");
    expect(error.message).toBe("Webhook URL refused: nowhere.example does not resolve (ENOTFOUND)");
  });

  it("refuses at delivery a name that resolved to a public address at creation and to loopback since (DNS rebinding)", async () => {
    let answers = [{ address: "93.184.215.14", family: 4 }];
    const services = await servicesFor({ env: production, webhookRetryBaseMs: 60_000, resolveHost: async () => answers });
    const port = new URL(receiver.url).port;
    await createWebhook(services, { url: `http://rebind.example:${port}/hooks`, events: ["user.created"] }, null);
    answers = [{ address: "127.0.0.1", family: 4 }];
    await services.webhooks.start();
    await callerFor(services).auth.register(newAccount());
    await until(async () => (await db.prisma.webhookAttempt.count()) === 1, 5_000, "the refused attempt");
    expect(await db.prisma.webhookAttempt.findFirstOrThrow()).toMatchObject({
      statusCode: null,
      error: "refused: rebind.example (127.0.0.1) is not a public address: private, loopback and link-local targets are refused in production",
    });
    expect(receiver.requests).toHaveLength(0);
  });

  it("connects to the address it checked, not to a second answer of the resolver", async () => {
    // Development allows loopback; the name resolves once per attempt and the connection uses that answer.
    let lookups = 0;
    const services = await servicesFor({
      webhookRetryBaseMs: 60_000,
      resolveHost: async () => (++lookups === 1 ? [] : [{ address: "127.0.0.1", family: 4 }]),
    });
    const port = new URL(receiver.url).port;
    await expectTRPCError(createWebhook(services, { url: `http://pinned.example:${port}/hooks`, events: ["user.created"] }, null), "BAD_REQUEST", "WEBHOOK_URL_REFUSED");
    await createWebhook(services, { url: `http://pinned.example:${port}/hooks`, events: ["user.created"] }, null);
    await services.webhooks.start();
    await callerFor(services).auth.register(newAccount());
    await until(() => receiver.requests.length === 1, 5_000, "the delivery");
    expect(receiver.requests[0]!.headers.host).toBe(`pinned.example:${port}`);
    expect(lookups).toBe(3);
  });
});

describe("admin procedures", () => {
  /** A signed-in user with the given roles, and a caller for them. */
  async function userWithRoles(services: Services, roles: string[]) {
    const registered = await callerFor(services).auth.register(newAccount());
    await db.prisma.user.update({ where: { id: registered.user.id }, data: { roles } });
    return { id: registered.user.id, caller: callerFor(services, { token: registered.accessToken }) };
  }

  it.each([[[] as string[]], [["support"]]])("answers FORBIDDEN to a user with roles %j on every webhook procedure, and changes nothing", async (roles) => {
    const services = await servicesFor();
    const { id: webhookId } = await subscribe(services, ["user.created"]);
    const { caller } = await userWithRoles(services, roles);
    const delivery = await db.prisma.webhookDelivery.findFirstOrThrow();
    const before = await db.prisma.webhook.findMany();
    // Called one at a time: a call made before the previous one is awaited could reject unobserved.
    const attempts = [
      () => caller.admin.createWebhook({ url: receiver.url, events: ["user.created"] }),
      () => caller.admin.listWebhooks(),
      () => caller.admin.deleteWebhook({ webhookId }),
      () => caller.admin.webhookDeliveries({ webhookId }),
      () => caller.admin.redeliver({ deliveryId: delivery.id }),
    ];
    for (const attempt of attempts) await expectTRPCError(attempt(), "FORBIDDEN", "FORBIDDEN");
    expect(await db.prisma.webhook.findMany()).toEqual(before);
    expect(await db.prisma.webhookDelivery.findFirstOrThrow()).toEqual(delivery);
  });

  it("creates an endpoint whose secret is answered once and stored only sealed, lists it without the secret, and audits it", async () => {
    const services = await servicesFor();
    const admin = await userWithRoles(services, ["admin"]);
    const created = await admin.caller.admin.createWebhook({ url: receiver.url, events: ["user.created", "session.revoked", "user.created"] });
    expect(created.secret).toMatch(/^whsec_/);
    const listed = await admin.caller.admin.listWebhooks();
    expect(listed).toEqual([{ id: created.id, url: receiver.url, events: ["user.created", "session.revoked"], createdAt: expect.any(Date), createdBy: admin.id }]);
    expect(JSON.stringify(listed)).not.toContain(created.secret.slice(6));
    const row = await db.prisma.webhook.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.secretSealed).not.toContain(created.secret.slice(6));
    expect(services.sealer.open(row.secretSealed, `webhook:${created.id}`)).toBe(created.secret);
    const audit = await db.prisma.authEvent.findMany({ where: { actorId: admin.id, type: "webhook_created" } });
    expect(audit).toMatchObject([{ userId: null, detail: `${created.id} ${receiver.url}` }]);
  });

  it.each([
    ["a URL that is not one", { url: "not a url", events: ["user.created"] }],
    ["an ftp URL", { url: "ftp://example.com/hooks", events: ["user.created"] }],
    ["a URL with credentials", { url: "https://user:pass@example.com/hooks", events: ["user.created"] }],
    ["no event", { url: "https://example.com/hooks", events: [] }],
    ["an unknown event", { url: "https://example.com/hooks", events: ["user.exploded"] }],
  ])("refuses %s with VALIDATION_FAILED, and creates nothing", async (_, input) => {
    const services = await servicesFor();
    const admin = await userWithRoles(services, ["admin"]);
    await expectTRPCError(admin.caller.admin.createWebhook(input as never), "BAD_REQUEST", "VALIDATION_FAILED");
    expect(await db.prisma.webhook.count()).toBe(0);
  });

  it("refuses a loopback target in production with WEBHOOK_URL_REFUSED", async () => {
    const services = await servicesFor({ env: { NODE_ENV: "production", BCRYPT_COST: "10" } });
    const admin = await userWithRoles(services, ["admin"]);
    const error = await expectTRPCError(admin.caller.admin.createWebhook({ url: receiver.url, events: ["user.created"] }), "BAD_REQUEST", "WEBHOOK_URL_REFUSED");
    expect(error.message).toContain("127.0.0.1 is not a public address");
    expect(await db.prisma.webhook.count()).toBe(0);
  });

  it("lists deliveries with their attempts, redelivers a failed one with the same webhook-id, and deletes the endpoint", async () => {
    const services = await servicesFor();
    // The worker of a second instance, whose clock runs through the day and more of retries.
    const clock = new TestClock();
    const worker = (await servicesFor({ clock })).webhooks;
    const admin = await userWithRoles(services, ["admin"]);
    const { id: webhookId, secret } = await admin.caller.admin.createWebhook({ url: receiver.url, events: ["user.created"] });
    receiver.answer = () => 500;
    const { user } = await callerFor(services).auth.register(newAccount());
    clock.advance(1);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      worker.wake();
      await until(async () => (await db.prisma.webhookAttempt.count()) === attempt, 5_000, `attempt ${attempt}`);
      await until(async () => (await db.prisma.webhookDelivery.findFirstOrThrow()).status !== "delivering", 5_000, "settled");
      clock.advance(30 * 3600);
    }
    const [failed] = await admin.caller.admin.webhookDeliveries({ webhookId });
    expect(failed).toMatchObject({ webhookId, eventType: "user.created", status: "failed", attemptCount: MAX_ATTEMPTS, deliveredAt: null });
    expect(failed!.payload).toEqual({ type: "user.created", timestamp: expect.any(String), data: { userId: user.id, email: user.email } });
    expect(failed!.attempts).toHaveLength(MAX_ATTEMPTS);
    expect(failed!.attempts[0]).toMatchObject({ statusCode: 500, error: "HTTP 500", response: "failing on purpose (500)" });

    receiver.answer = () => 204;
    const redelivered = await admin.caller.admin.redeliver({ deliveryId: failed!.id });
    expect(redelivered).toMatchObject({ id: failed!.id, status: "pending", attemptCount: 0 });
    worker.wake();
    await until(async () => (await db.prisma.webhookDelivery.findFirstOrThrow()).status === "succeeded", 5_000, "redelivered");
    const last = receiver.requests.at(-1)!;
    expect(last.headers["webhook-id"]).toBe(failed!.eventId);
    // Signed as every attempt is (the worker's clock is days ahead here, so the verifier's 5-minute window does not apply).
    expect(new Webhook(secret).sign(last.headers["webhook-id"]!, new Date(Number(last.headers["webhook-timestamp"]) * 1000), last.body)).toBe(last.headers["webhook-signature"]);
    const [succeeded] = await admin.caller.admin.webhookDeliveries({ webhookId });
    expect(succeeded).toMatchObject({ status: "succeeded", attemptCount: 1, deliveredAt: expect.any(Date) });
    expect(succeeded!.attempts).toHaveLength(MAX_ATTEMPTS + 1);
    expect(await db.prisma.authEvent.count({ where: { actorId: admin.id, type: "webhook_redelivered", detail: failed!.id } })).toBe(1);

    await expectTRPCError(admin.caller.admin.redeliver({ deliveryId: "00000000-0000-4000-8000-000000000000" }), "NOT_FOUND", "NOT_FOUND");
    expect(await admin.caller.admin.deleteWebhook({ webhookId })).toEqual({ success: true });
    expect(await db.prisma.webhookDelivery.count()).toBe(0);
    await expectTRPCError(admin.caller.admin.deleteWebhook({ webhookId }), "NOT_FOUND", "NOT_FOUND");
    await expectTRPCError(admin.caller.admin.webhookDeliveries({ webhookId }), "NOT_FOUND", "NOT_FOUND");
    expect(await admin.caller.admin.listWebhooks()).toEqual([]);
  });

  it("pages through deliveries written in one transaction (one createdAt) with the cursor, each once", async () => {
    const services = await servicesFor();
    const admin = await userWithRoles(services, ["admin"]);
    const { id: webhookId } = await admin.caller.admin.createWebhook({ url: receiver.url, events: ["user.created"] });
    await db.prisma.user.createMany({ data: Array.from({ length: 5 }, (_, i) => ({ email: `page-${i}@example.com`, name: "P" })) });
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 3; page++) {
      const items = await admin.caller.admin.webhookDeliveries({ webhookId, limit: 2, cursor });
      seen.push(...items.map((d) => d.id));
      cursor = items.at(-1)?.id;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    expect(new Set((await db.prisma.webhookDelivery.findMany({ select: { createdAt: true } })).map((d) => d.createdAt.getTime())).size).toBe(1);
    await expectTRPCError(admin.caller.admin.webhookDeliveries({ webhookId, cursor: "00000000-0000-4000-8000-000000000000" }), "NOT_FOUND", "NOT_FOUND");
  });

  it("answers WEBHOOK_DELIVERY_BUSY to a redelivery while an attempt is in flight", async () => {
    const clock = new TestClock();
    const services = await servicesFor({ clock });
    const admin = await userWithRoles(services, ["admin"]);
    await admin.caller.admin.createWebhook({ url: receiver.url, events: ["user.created"] });
    await callerFor(services).auth.register(newAccount());
    clock.advance(1);
    const [claimed] = await claimDueDeliveries(db.prisma, clock.now(), services.webhooks.leaseMs, 10);
    await expectTRPCError(admin.caller.admin.redeliver({ deliveryId: claimed!.id }), "CONFLICT", "WEBHOOK_DELIVERY_BUSY");
    expect((await db.prisma.webhookDelivery.findFirstOrThrow()).leaseId).toBe(claimed!.leaseId);
  });
});

describe("examples/webhook-receiver.ts", () => {
  it("verifies each delivery, handles a redelivered event once, and refuses a forged one", { timeout: 30_000 }, async () => {
    const services = await servicesFor();
    const { id, secret } = await subscribe(services, ["user.created"], "http://127.0.0.1:9/placeholder");
    const child = spawn(process.execPath, ["--import", "tsx", "examples/webhook-receiver.ts"], {
      cwd: new URL("../", import.meta.url),
      env: { PATH: process.env.PATH ?? "", GATEHOUSE_WEBHOOK_SECRET: secret, WEBHOOK_RECEIVER_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      await until(() => /on (http:\S+)/.test(output), 20_000, "the example listening");
      const url = /on (http:\S+)/.exec(output)![1]!;
      await db.prisma.webhook.update({ where: { id }, data: { url } });
      await services.webhooks.start();
      const account = newAccount();
      const { user } = await callerFor(services).auth.register(account);
      await until(async () => (await deliveryStatuses())[0] === "succeeded", 10_000, "delivered");
      const delivery = await db.prisma.webhookDelivery.findFirstOrThrow();
      await redeliver(services, delivery.id, null);
      await until(async () => (await db.prisma.webhookAttempt.count()) === 2 && (await deliveryStatuses())[0] === "succeeded", 10_000, "redelivered");
      const forged = await fetch(url, { method: "POST", body: JSON.stringify(delivery.payload), headers: {
        "webhook-id": delivery.eventId, "webhook-timestamp": String(Math.floor(Date.now() / 1000)), "webhook-signature": "v1,Zm9yZ2Vk" } });
      expect(forged.status).toBe(400);
      await until(() => output.includes("refused:"), 5_000, "the refusal logged");
      const lines = output.trim().split("\n").slice(1);
      expect(lines).toEqual([`user.created: ${account.email} (${user.id})`, "refused: No matching signature found"]);
    } finally {
      child.kill();
    }
  });
});
