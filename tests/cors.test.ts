/** Browser safety: the CORS allow-list (CORS_ORIGINS) and 415 for mutations without a JSON body. */
import { beforeAll, describe, expect, it } from "vitest";
import { newAccount } from "./helpers/caller.ts";
import { openTestDatabase } from "./helpers/database.ts";
import { dataOf, expectError, mutate } from "./helpers/http.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { testServices } from "./helpers/services.ts";

const ALLOWED = "https://app.example.com";
const ALSO_ALLOWED = "http://localhost:5173";

let withCors: string;
let withoutCors: string;

beforeAll(async () => {
  const db = await openTestDatabase();
  withCors = (await startTestServer(await testServices(db, { env: { CORS_ORIGINS: `${ALLOWED}, ${ALSO_ALLOWED}` } }))).url;
  withoutCors = (await startTestServer(await testServices(db))).url;
});

function corsHeaders(res: Response): Record<string, string> {
  return Object.fromEntries([...res.headers].filter(([name]) => name.startsWith("access-control-")));
}

function preflight(base: string, origin: string, path = "/trpc/auth.login") {
  return fetch(`${base}${path}`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type, authorization" },
  });
}

describe("CORS with CORS_ORIGINS set", () => {
  it("answers an allowed origin's preflight with 204, the allowed methods and headers, and Vary: Origin", async () => {
    const res = await preflight(withCors, ALLOWED);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(corsHeaders(res)).toEqual({
      "access-control-allow-origin": ALLOWED,
      "access-control-allow-methods": "GET, POST, OPTIONS",
      "access-control-allow-headers": "content-type, authorization, x-request-id, trpc-accept",
      "access-control-max-age": "600",
    });
    expect(res.headers.get("vary")).toMatch(/\bOrigin\b/);
  });

  it("echoes an allowed origin on real requests (never *), and lets scripts read Retry-After and x-request-id", async () => {
    for (const origin of [ALLOWED, ALSO_ALLOWED]) {
      const res = await fetch(`${withCors}/trpc/health`, { headers: { origin } });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe(origin);
      expect(res.headers.get("access-control-expose-headers")).toBe("x-request-id, retry-after");
      expect(res.headers.get("access-control-allow-credentials")).toBeNull();
      expect(res.headers.get("vary")).toMatch(/\bOrigin\b/);
    }
    const register = await fetch(`${withCors}/trpc/auth.register`, {
      method: "POST",
      headers: { origin: ALLOWED, "content-type": "application/json" },
      body: JSON.stringify({ json: newAccount() }),
    });
    expect(register.status).toBe(200);
    expect(register.headers.get("access-control-allow-origin")).toBe(ALLOWED);
  });

  it.each([
    ["another site", "https://evil.example"],
    ["a sub-domain of an allowed origin", "https://evil.app.example.com"],
    ["an allowed origin's prefix", "https://app.example.co"],
    ["an allowed origin plus a suffix", "https://app.example.com.evil.example"],
    ["another scheme", "http://app.example.com"],
    ["another port", "https://app.example.com:8443"],
    ["the null origin", "null"],
  ])("sends no CORS headers to %s", async (_name, origin) => {
    const res = await fetch(`${withCors}/trpc/health`, { headers: { origin } });
    expect(res.status).toBe(200);
    expect(corsHeaders(res)).toEqual({});
    const pre = await preflight(withCors, origin);
    expect(pre.status).not.toBe(204);
    expect(corsHeaders(pre)).toEqual({});
  });

  it("applies to every path, not only /trpc", async () => {
    const health = await fetch(`${withCors}/healthz`, { headers: { origin: ALLOWED } });
    expect(health.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect((await preflight(withCors, ALLOWED, "/readyz")).status).toBe(204);
  });

  it("does not treat an OPTIONS request without Access-Control-Request-Method as a preflight", async () => {
    const res = await fetch(`${withCors}/trpc/auth.login`, { method: "OPTIONS", headers: { origin: ALLOWED } });
    expect(res.status).not.toBe(204);
  });
});

describe("CORS with CORS_ORIGINS unset", () => {
  it("sends no CORS headers at all, to any origin, and answers no preflight", async () => {
    for (const origin of [ALLOWED, "https://evil.example"]) {
      const res = await fetch(`${withoutCors}/trpc/health`, { headers: { origin } });
      expect(corsHeaders(res)).toEqual({});
      expect(res.headers.get("vary") ?? "").not.toMatch(/\bOrigin\b/);
      const pre = await preflight(withoutCors, origin);
      expect(pre.status).not.toBe(204);
      expect(corsHeaders(pre)).toEqual({});
    }
  });
});

describe("415 for mutations without a JSON body", () => {
  const login = { email: "a@example.com", password: "whatever password" };

  it.each([
    ["no content type", undefined, JSON.stringify({ json: login })],
    ["text/plain (a simple cross-site request)", "text/plain", JSON.stringify({ json: login })],
    ["application/x-www-form-urlencoded (an HTML form)", "application/x-www-form-urlencoded", "email=a%40example.com&password=x"],
    ["multipart/form-data (an HTML form)", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@example.com\r\n--x--\r\n"],
    ["application/octet-stream", "application/octet-stream", "abc"],
    ["a JSON look-alike", "application/jsonx", JSON.stringify({ json: login })],
  ])("refuses %s with 415 UNSUPPORTED_MEDIA_TYPE", async (_name, contentType, body) => {
    const res = await fetch(`${withoutCors}/trpc/auth.login`, {
      method: "POST",
      headers: contentType ? { "content-type": contentType } : {},
      body: new TextEncoder().encode(body),
    });
    const text = await res.text();
    expect(res.status, text).toBe(415);
    expect(JSON.parse(text).error.json.data.appCode).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it("accepts application/json with parameters and in any case", async () => {
    for (const contentType of ["application/json; charset=utf-8", "Application/JSON"]) {
      const res = await mutate(withoutCors, "auth.login", login, { headers: { "content-type": contentType } });
      expectError(res, 401, "INVALID_CREDENTIALS");
    }
    dataOf(await mutate(withoutCors, "auth.register", newAccount(), { headers: { "content-type": "application/json;charset=UTF-8" } }));
  });
});
