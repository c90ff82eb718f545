/**
 * Traces (server/observability/tracing.ts), collected with an in-memory
 * exporter: one server span per request named by its procedure, child spans
 * for database statements and password hashing under it, and no secret,
 * token or email anywhere in a span.
 */
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { SpanKind } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices, type Services } from "../server/services.ts";
import { newAccount } from "./helpers/caller.ts";
import { onPostgres, scratchPostgresUrl, silentLog } from "./helpers/database.ts";
import { dataOf, expectError, mutate, query } from "./helpers/http.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { TEST_SECRET, testConfig } from "./helpers/services.ts";

const exporter = new InMemorySpanExporter();
let services: Services;
let base: string;

beforeAll(async () => {
  // Services that open their own database, so that its statements are traced too.
  const env: Record<string, string> = onPostgres ? { DATABASE_URL: await scratchPostgresUrl() } : {};
  services = await createServices(testConfig(env), { log: silentLog, traceExporter: exporter });
  afterAll(() => services.close());
  base = (await startTestServer(services)).url;
});

/** Spans of requests sent by `send`, once every request span has ended. */
async function spansOf(send: () => Promise<void>): Promise<ReadableSpan[]> {
  exporter.reset();
  await send();
  // The request span ends when the answer is written, just after the client may read it.
  await new Promise((r) => setTimeout(r, 50));
  return exporter.getFinishedSpans();
}

const requestSpans = (spans: ReadableSpan[]) => spans.filter((s) => s.kind === SpanKind.SERVER);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe("request spans", () => {
  it("makes one server span per request, named by its procedure, with database and hashing spans under it", async () => {
    const account = newAccount();
    const spans = await spansOf(async () => {
      dataOf(await mutate(base, "auth.register", account));
    });
    const [request, ...others] = requestSpans(spans);
    expect(others).toHaveLength(0);
    expect(request!.name).toBe("auth.register");
    expect(request!.attributes).toMatchObject({ "http.request.method": "POST", "http.route": "auth.register", "http.response.status_code": 200 });
    const children = spans.filter((s) => s !== request);
    expect(children.map((s) => s.name)).toContain("password.hash");
    expect(children.filter((s) => s.name.startsWith("db ")).length).toBeGreaterThan(0);
    for (const child of children) {
      expect(child.spanContext().traceId).toBe(request!.spanContext().traceId);
      // Direct children, or statements inside a traced transaction of the request.
      expect(spans.map((s) => s.spanContext().spanId)).toContain(parentOf(child));
    }
    expect(children.filter((s) => parentOf(s) === request!.spanContext().spanId).length).toBeGreaterThan(0);
  });

  it("names a batch 'batch' and lists its procedures; a failed call sets its appCode", async () => {
    const spans = await spansOf(async () => {
      const res = await fetch(`${base}/trpc/health,auth.me?batch=1`);
      expect(res.status).toBe(207);
    });
    const [request] = requestSpans(spans);
    expect(request!.name).toBe("batch");
    expect(request!.attributes).toMatchObject({ "gatehouse.procedures": "health,auth.me", "gatehouse.app_codes": "TOKEN_MISSING" });
  });

  it("gives each concurrent request its own trace", async () => {
    const spans = await spansOf(async () => {
      await Promise.all(Array.from({ length: 5 }, () => query(base, "health")));
    });
    const requests = requestSpans(spans);
    expect(requests).toHaveLength(5);
    expect(new Set(requests.map((s) => s.spanContext().traceId)).size).toBe(5);
    for (const db of spans.filter((s) => s.name.startsWith("db "))) {
      expect(requests.map((s) => s.spanContext().spanId)).toContain(parentOf(db));
    }
  });

  it("folds an unknown path into 'unknown'", async () => {
    const spans = await spansOf(async () => {
      expect((await fetch(`${base}/users/alice@example.com/secret`)).status).toBe(404);
    });
    expect(requestSpans(spans).map((s) => s.name)).toEqual(["unknown"]);
  });
});

describe("secrets", () => {
  it("puts no password, token, secret or email in any span name, attribute, event or resource", async () => {
    const account = newAccount();
    const secrets: string[] = [account.password, account.email, TEST_SECRET, "definitely not the password"];
    const spans = await spansOf(async () => {
      const registered = dataOf(await mutate(base, "auth.register", account));
      secrets.push(registered.accessToken, registered.refreshToken, registered.user.id);
      const login = dataOf(await mutate(base, "auth.login", { email: account.email, password: account.password }));
      secrets.push(login.accessToken, login.refreshToken);
      expectError(await mutate(base, "auth.login", { email: account.email, password: "definitely not the password" }), 401, "INVALID_CREDENTIALS");
      dataOf(await query(base, "auth.me", undefined, { token: login.accessToken }));
      const refreshed = dataOf(await mutate(base, "auth.refresh", { refreshToken: login.refreshToken }));
      secrets.push(refreshed.accessToken, refreshed.refreshToken);
      // The same secrets through the REST bridge and in a query string.
      expect((await fetch(`${base}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: account.email, password: account.password }),
      })).status).toBe(200);
      await fetch(`${base}/trpc/auth.me?token=${refreshed.accessToken}&email=${account.email}`);
    });
    expect(requestSpans(spans).length).toBe(7);
    // Each token also in the parts a leak would show: the JWT's payload and signature, the opaque secret.
    const needles = secrets.flatMap((s) => [s, ...s.split(".").filter((part) => part.length >= 16)]);
    const texts = spans.flatMap((span) => [
      span.name,
      JSON.stringify(span.attributes),
      JSON.stringify(span.events),
      JSON.stringify(span.links),
      JSON.stringify(span.resource.attributes),
      JSON.stringify(span.status),
    ]);
    for (const text of texts) {
      for (const needle of needles) expect(text.includes(needle), `${needle} in ${text}`).toBe(false);
      expect(text, "an email address").not.toMatch(/[^\s"@]+@[^\s"@]+\.[a-z]+/);
    }
  });
});
