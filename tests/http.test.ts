/** The wire format as users see it: @trpc/client and raw fetch against the real server on port 0. */
import { createTRPCClient, httpBatchLink, httpLink, TRPCClientError } from "@trpc/client";
import superjson from "superjson";
import { beforeAll, describe, expect, it } from "vitest";
import type { AppRouter } from "../routers/_app.ts";
import type { Services } from "../server/services.ts";
import { newAccount } from "./helpers/caller.ts";
import { openTestDatabase } from "./helpers/database.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { testServices } from "./helpers/services.ts";

let services: Services;
let base: string;

beforeAll(async () => {
  const db = await openTestDatabase();
  services = await testServices(db);
  base = (await startTestServer(services)).url;
});

function client(token?: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${base}/trpc`,
        transformer: superjson,
        headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
      }),
    ],
  });
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${base}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("@trpc/client with httpBatchLink and superjson", () => {
  it("registers, reads me with the bearer token, and revives Dates", async () => {
    const account = newAccount();
    const result = await client().auth.register.mutate(account);
    expect(result.user.createdAt).toBeInstanceOf(Date);
    const me = await client(result.accessToken).auth.me.query();
    expect(me).toEqual({ ...result.user, permissions: [], impersonatedBy: null });
  });

  it("batches calls and reports each error with its appCode", async () => {
    const { accessToken } = await client().auth.register.mutate(newAccount());
    const authed = client(accessToken);
    const [me, sessions, health] = await Promise.all([authed.auth.me.query(), authed.auth.sessions.query(), authed.health.query()]);
    expect(me.email).toContain("@example.com");
    expect(sessions).toHaveLength(1);
    expect(health).toEqual({ status: "ok", db: "ok" });

    const error = await client().auth.me.query().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<AppRouter>).data).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401, appCode: "TOKEN_MISSING" });
  });

  it("works without batching too", async () => {
    const plain = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${base}/trpc`, transformer: superjson })] });
    expect(await plain.health.query()).toEqual({ status: "ok", db: "ok" });
  });
});

describe("raw HTTP", () => {
  it("answers login errors in tRPC's envelope with appCode", async () => {
    const res = await post("auth.login", { json: { email: "nobody@example.com", password: "whatever-password" } });
    expect(res.status).toBe(401);
    expect((await res.json()) as any).toEqual({
      error: {
        json: {
          message: "Invalid email or password",
          code: -32001,
          data: { code: "UNAUTHORIZED", httpStatus: 401, path: "auth.login", appCode: "INVALID_CREDENTIALS" },
        },
      },
    });
  });

  it("names each invalid field in fieldErrors", async () => {
    const res = await post("auth.register", { json: { email: "nope", password: "short", name: "" } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error.json.data.appCode).toBe("VALIDATION_FAILED");
    expect(Object.keys(body.error.json.data.fieldErrors).sort()).toEqual(["email", "name", "password"]);
    expect(body.error.json.message).toMatch(/email/);
  });

  it("refuses a missing input object as VALIDATION_FAILED", async () => {
    const res = await post("auth.login", {});
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.json.data.appCode).toBe("VALIDATION_FAILED");
  });

  it("refuses malformed JSON with 400", async () => {
    const res = await post("auth.login", "{not json");
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.json.data.appCode).toBe("VALIDATION_FAILED");
  });

  it("refuses a GET to a mutation with 405", async () => {
    const input = encodeURIComponent(JSON.stringify({ json: { email: "a@example.com", password: "x" } }));
    const res = await fetch(`${base}/trpc/auth.login?input=${input}`);
    expect(res.status).toBe(405);
    expect(((await res.json()) as any).error.json.data.appCode).toBe("METHOD_NOT_SUPPORTED");
  });

  it("refuses a mutation with a non-JSON content type with 415", async () => {
    const res = await fetch(`${base}/trpc/auth.login`, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
    expect(res.status).toBe(415);
  });

  it("refuses bodies over 100 KB with 413, with or without content-length", async () => {
    const big = JSON.stringify({ json: { email: "a@example.com", password: "x".repeat(200_000) } });
    const declared = await post("auth.login", big);
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as any).error.json.data.appCode).toBe("PAYLOAD_TOO_LARGE");
    const chunks = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const streamed = await fetch(`${base}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chunks,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it("accepts a batch of 10 and refuses a batch of 11 with 400", async () => {
    const paths = (n: number) => Array.from({ length: n }, () => "health").join(",");
    const ok = await fetch(`${base}/trpc/${paths(10)}?batch=1&input=${encodeURIComponent("{}")}`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toHaveLength(10);
    const tooMany = await fetch(`${base}/trpc/${paths(11)}?batch=1&input=${encodeURIComponent("{}")}`);
    expect(tooMany.status).toBe(400);
  });

  it("answers an unknown procedure with 404 NOT_FOUND", async () => {
    const res = await fetch(`${base}/trpc/auth.nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.json.data.appCode).toBe("NOT_FOUND");
  });

  it("sets no-store and nosniff on tRPC answers", async () => {
    const res = await fetch(`${base}/trpc/health`);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("never leaks a hash or a stack", async () => {
    const account = newAccount();
    const res = await post("auth.register", { json: account });
    const text = await res.text();
    expect(text).not.toMatch(/\$2[aby]\$/);
    expect(text).not.toContain(account.password);
    const bad = await (await post("auth.login", { json: { email: "x@example.com", password: "wrong-password" } })).text();
    expect(bad).not.toMatch(/stack|\.ts:\d+/);
  });
});

describe("routes outside tRPC", () => {
  it("serves /healthz and /readyz", async () => {
    const health = await fetch(`${base}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: "ok" }]);
    const ready = await fetch(`${base}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: "ok" }]);
  });

  it("answers an unknown path with a JSON 404", async () => {
    const res = await fetch(`${base}/nowhere`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(((await res.json()) as any).error.code).toBe("NOT_FOUND");
  });

  it("echoes a safe x-request-id and replaces an unsafe one", async () => {
    const echoed = await fetch(`${base}/healthz`, { headers: { "x-request-id": "abc-123_X.y" } });
    expect(echoed.headers.get("x-request-id")).toBe("abc-123_X.y");
    const replaced = await fetch(`${base}/healthz`, { headers: { "x-request-id": "bad id<script>" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    expect(replaced.headers.get("x-request-id")).not.toContain("script");
    const generated = await fetch(`${base}/healthz`);
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
