/**
 * Differential test of the fast tRPC handler (server/http/trpc-fast.ts): a
 * corpus of raw HTTP requests (queries, mutations, batches, errors, bad
 * inputs, methods, content types, HTTP/1.0) goes to a server
 * with TRPC_ADAPTER=stock and to one with the default fast adapter, and the
 * raw response bytes must be identical: status line, every header in order,
 * chunked framing, body. Only the Date header and values that are new on every
 * call (UUIDs, JWTs, refresh tokens, timestamps) are masked, each side alike.
 */
import { connect } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../server/db/database.ts";
import { appRouter } from "../routers/_app.ts";
import { fastCallOf } from "../server/http/trpc-fast.ts";
import { MAX_BATCH_SIZE } from "../server/http/trpc-handler.ts";
import type { Services } from "../server/services.ts";
import { callerFor } from "./helpers/caller.ts";
import { openTestDatabase } from "./helpers/database.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { testServices } from "./helpers/services.ts";

let db: Database;
let stock: { url: string; services: Services };
let fast: { url: string; services: Services };
let limitedStock: { url: string; services: Services };
let limitedFast: { url: string; services: Services };

const PASSWORD = "correct horse battery staple";
let accountCounter = 0;

async function serverWith(env: Record<string, string>) {
  const services = await testServices(db, { env });
  const { url } = await startTestServer(services);
  return { url, services };
}

beforeAll(async () => {
  db = await openTestDatabase();
  const generous = { AUTH_RATE_LIMIT_PER_MINUTE: "100000", LOGIN_MAX_FAILURES: "1000" };
  stock = await serverWith({ ...generous, TRPC_ADAPTER: "stock" });
  fast = await serverWith(generous);
  limitedStock = await serverWith({ AUTH_RATE_LIMIT_PER_MINUTE: "1", TRPC_ADAPTER: "stock" });
  limitedFast = await serverWith({ AUTH_RATE_LIMIT_PER_MINUTE: "1" });
});

/** A fresh account with a live session: its email, access and refresh tokens, session id. */
async function account(services: Services) {
  const email = `diff${String(++accountCounter).padStart(6, "0")}@example.com`;
  const result = await callerFor(services).auth.register({ email, password: PASSWORD, name: "Diff Test" });
  const claims = JSON.parse(Buffer.from(result.accessToken.split(".")[1]!, "base64url").toString()) as { sid: string };
  return { email, token: result.accessToken, refresh: result.refreshToken, sid: claims.sid };
}

/** Sends raw bytes and reads the whole answer (the request asks the server to close). */
function rawRequest(baseUrl: string, bytes: string | Buffer): Promise<string> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.on("error", reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error("timed out")));
    // Written, not ended: the request says `connection: close`, so the server closes when done.
    socket.write(bytes);
  });
}

function mask(response: string): string {
  return response
    .replace(/\r\nDate: [^\r]+/i, "\r\nDate: <date>")
    .replace(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, "<jwt>")
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.[A-Za-z0-9_-]+)?/g, (_m, secret) => (secret ? "<uuid>.<secret>" : "<uuid>"))
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "<time>")
    .replace(/diff\d{6}@example\.com/g, "<email>");
}

interface Vars {
  email: string;
  token: string;
  refresh: string;
  sid: string;
}

interface Case {
  name: string;
  /** Raw request text with {token}, {email}, {refresh}, {sid} filled in per side; `\n` become CRLF in the head. */
  request: (v: Vars) => string | Buffer;
  /** Whether the fast adapter should answer it itself (otherwise it hands it to the stock one). */
  fast: boolean;
  limited?: boolean;
}

const json = (value: unknown) => JSON.stringify({ json: value });
const enc = encodeURIComponent;

/** Builds a request: method, target, headers, optional body (content-length added). */
function http(method: string, target: string, headers: Record<string, string> = {}, body?: string | Buffer, version = "1.1"): Buffer {
  const all: Record<string, string> = { host: "127.0.0.1", "x-request-id": "diff-test", connection: "close", ...headers };
  if (body !== undefined && all["transfer-encoding"] === undefined) all["content-length"] = String(Buffer.byteLength(body));
  const head = `${method} ${target} HTTP/${version}\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}`).join("\r\n")}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body === undefined ? Buffer.alloc(0) : Buffer.from(body)]);
}
const bearer = (v: Vars) => ({ authorization: `Bearer ${v.token}` });
const jsonType = { "content-type": "application/json" };
const batchOf = (...inputs: unknown[]) => JSON.stringify(Object.fromEntries(inputs.map((input, i) => [i, { json: input }])));

const CASES: Case[] = [
  // Queries.
  { name: "auth.me with a token", fast: true, request: (v) => http("GET", "/trpc/auth.me", bearer(v)) },
  { name: "auth.me without a token", fast: true, request: () => http("GET", "/trpc/auth.me") },
  { name: "auth.me with a malformed token", fast: true, request: () => http("GET", "/trpc/auth.me", { authorization: "Bearer abc.def" }) },
  { name: "auth.me with another scheme", fast: true, request: () => http("GET", "/trpc/auth.me", { authorization: "Basic Zm9vOmJhcg==" }) },
  { name: "auth.sessions", fast: true, request: (v) => http("GET", "/trpc/auth.sessions", bearer(v)) },
  { name: "health", fast: true, request: () => http("GET", "/trpc/health") },
  { name: "health with a superjson input", fast: true, request: () => http("GET", `/trpc/health?input=${enc(json(null))}`) },
  { name: "health with an unparseable input it never reads", fast: true, request: () => http("GET", "/trpc/health?input=%7Bnot-json") },
  { name: "auth.me with input it does not take", fast: true, request: (v) => http("GET", `/trpc/auth.me?input=${enc(json({ role: "admin" }))}`, bearer(v)) },
  { name: "encoded dot in the path", fast: true, request: (v) => http("GET", "/trpc/auth%2Eme", bearer(v)) },
  { name: "trailing slash", fast: true, request: (v) => http("GET", "/trpc/auth.me/", bearer(v)) },
  { name: "JSON content type on a GET", fast: true, request: (v) => http("GET", "/trpc/auth.me", { ...bearer(v), "content-type": "application/json" }) },
  { name: "HTTP/1.0", fast: true, request: (v) => http("GET", "/trpc/auth.me", { ...bearer(v), connection: "close" }, undefined, "1.0") },
  { name: "GET on a mutation (405, allow)", fast: true, request: () => http("GET", `/trpc/auth.login?input=${enc(json({ email: "a@b.co", password: "x" }))}`) },
  { name: "revoked session", fast: true, request: (v) => http("GET", "/trpc/auth.me", { authorization: `Bearer ${v.token}`, "x-revoke": v.sid }) },
  // Query batches.
  { name: "batch of two queries", fast: true, request: (v) => http("GET", "/trpc/auth.me,health?batch=1", bearer(v)) },
  { name: "batch with inputs", fast: true, request: (v) => http("GET", `/trpc/auth.me,health?batch=1&input=${enc(batchOf(undefined, null))}`, bearer(v)) },
  { name: "batch, some unauthorised (207)", fast: true, request: () => http("GET", "/trpc/auth.me,health,auth.sessions?batch=1&input=%7B%7D") },
  { name: "batch of one", fast: true, request: (v) => http("GET", "/trpc/auth.me?batch=1", bearer(v)) },
  { name: "batch of ten", fast: true, request: (v) => http("GET", `/trpc/${Array(10).fill("auth.me").join(",")}?batch=1`, bearer(v)) },
  { name: "batch with an array input", fast: true, request: (v) => http("GET", "/trpc/auth.me,health?batch=1&input=%5B1%5D", bearer(v)) },
  // Mutations.
  { name: "login", fast: true, request: (v) => http("POST", "/trpc/auth.login", jsonType, json({ email: v.email, password: PASSWORD })) },
  { name: "login, wrong password", fast: true, request: (v) => http("POST", "/trpc/auth.login", jsonType, json({ email: v.email, password: "wrong password!" })) },
  { name: "login, invalid email", fast: true, request: () => http("POST", "/trpc/auth.login", jsonType, json({ email: "not-an-email", password: "x" })) },
  { name: "login, missing fields", fast: true, request: () => http("POST", "/trpc/auth.login", jsonType, json({})) },
  { name: "login, body not JSON", fast: true, request: () => http("POST", "/trpc/auth.login", jsonType, "{not json") },
  { name: "login, empty body", fast: true, request: () => http("POST", "/trpc/auth.login", jsonType, "") },
  { name: "login, no superjson envelope", fast: true, request: (v) => http("POST", "/trpc/auth.login", jsonType, JSON.stringify({ email: v.email, password: PASSWORD })) },
  { name: "login, UTF-8 BOM", fast: true, request: (v) => http("POST", "/trpc/auth.login", jsonType, `\uFEFF${json({ email: v.email, password: PASSWORD })}`) },
  { name: "login, charset and case in content type", fast: true, request: (v) => http("POST", "/trpc/auth.login", { "content-type": "Application/JSON; charset=utf-8" }, json({ email: v.email, password: "ünïcödé ✓ 🔑" })) },
  {
    name: "register with keys it ignores",
    fast: true,
    request: () => {
      const email = `diff${String(++accountCounter).padStart(6, "0")}@example.com`;
      return http("POST", "/trpc/auth.register", jsonType, `{"json":{"email":"${email}","password":"${PASSWORD}","name":"X","role":"admin","__proto__":{"a":1}}}`);
    },
  },
  { name: "register, weak password", fast: true, request: () => http("POST", "/trpc/auth.register", jsonType, json({ email: "weak@example.com", password: "password", name: "W" })) },
  { name: "refresh", fast: true, request: (v) => http("POST", "/trpc/auth.refresh", jsonType, json({ refreshToken: v.refresh })) },
  { name: "refresh, garbage token", fast: true, request: () => http("POST", "/trpc/auth.refresh", jsonType, json({ refreshToken: "nope" })) },
  { name: "logout", fast: true, request: (v) => http("POST", "/trpc/auth.logout", { ...jsonType, ...bearer(v) }, "") },
  { name: "logout without a token", fast: true, request: () => http("POST", "/trpc/auth.logout", jsonType, "") },
  { name: "revokeSession, not a UUID", fast: true, request: (v) => http("POST", "/trpc/auth.revokeSession", { ...jsonType, ...bearer(v) }, json({ sessionId: "x" })) },
  { name: "POST on a query (405, allow)", fast: true, request: () => http("POST", "/trpc/health", jsonType, "") },
  { name: "batch of mutations, one failing (207)", fast: true, request: (v) => http("POST", "/trpc/auth.login,auth.login?batch=1", jsonType, batchOf({ email: v.email, password: PASSWORD }, { email: v.email, password: "wrong" })) },
  { name: "batch body not an object", fast: true, request: () => http("POST", "/trpc/auth.login,auth.login?batch=1", jsonType, "[1,2]") },
  { name: "batch of one mutation", fast: true, request: (v) => http("POST", "/trpc/auth.login?batch=1", jsonType, batchOf({ email: v.email, password: PASSWORD })) },
  // Rate limited: the second login of the pair gets 429 with Retry-After.
  { name: "rate limited (retry-after)", fast: true, limited: true, request: () => http("POST", "/trpc/auth.login", jsonType, json({ email: "nobody@example.com", password: "x" })) },
  // Handed to the stock adapter.
  { name: "unknown procedure", fast: false, request: () => http("GET", "/trpc/auth.nope") },
  { name: "empty procedure path", fast: false, request: () => http("GET", "/trpc/") },
  { name: "prototype key as path", fast: false, request: () => http("GET", "/trpc/constructor") },
  { name: "batch of eleven", fast: false, request: (v) => http("GET", `/trpc/${Array(11).fill("auth.me").join(",")}?batch=1`, bearer(v)) },
  { name: "batch mixing a query and a mutation", fast: false, request: () => http("GET", "/trpc/auth.me,auth.login?batch=1") },
  { name: "malformed percent-encoding", fast: false, request: () => http("GET", "/trpc/auth.me%E0%A4%A") },
  { name: "HEAD", fast: false, request: (v) => http("HEAD", "/trpc/auth.me", bearer(v)) },
  { name: "PUT", fast: false, request: () => http("PUT", "/trpc/auth.login", jsonType, json({})) },
  { name: "DELETE", fast: false, request: () => http("DELETE", "/trpc/auth.me") },
  { name: "PATCH without a content type", fast: false, request: () => http("PATCH", "/trpc/auth.me") },
  { name: "GET with a text content type", fast: false, request: (v) => http("GET", "/trpc/auth.me", { ...bearer(v), "content-type": "text/plain" }) },
  // One call per streamed batch: with two, the stock adapter streams them in completion order.
  { name: "streaming accept header", fast: false, request: (v) => http("GET", "/trpc/auth.me?batch=1", { ...bearer(v), "trpc-accept": "application/jsonl" }) },
  { name: "jsonl in accept", fast: false, request: (v) => http("GET", "/trpc/auth.me?batch=1", { ...bearer(v), accept: "application/jsonl" }) },
  { name: "connectionParams", fast: false, request: (v) => http("GET", "/trpc/auth.me?connectionParams=1", bearer(v)) },
  { name: "chunked POST body", fast: false, request: (v) => http("POST", "/trpc/auth.login", { ...jsonType, "transfer-encoding": "chunked" }, (() => { const b = json({ email: v.email, password: PASSWORD }); return `${Buffer.byteLength(b).toString(16)}\r\n${b}\r\n0\r\n\r\n`; })()) },
];

/** Whether the fast handler answers these bytes itself: its own choice, read from the request's head as Node parses it. */
function takenByFast(bytes: string | Buffer): boolean {
  const text = typeof bytes === "string" ? bytes : bytes.toString("latin1");
  const [requestLine, ...lines] = text.slice(0, text.indexOf("\r\n\r\n")).split("\r\n");
  const [method, url] = requestLine!.split(" ");
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
  return fastCallOf({ router: appRouter, basePath: "/trpc/", maxBatchSize: MAX_BATCH_SIZE }, { method, url, headers, socket: {} }) !== null;
}

async function sendBoth(c: Case): Promise<{ stock: string; fast: string; handledByFast: boolean }> {
  const answers: string[] = [];
  let handledByFast = false;
  for (const side of c.limited ? [limitedStock, limitedFast] : [stock, fast]) {
    const v = await account(side.services);
    const bytes = c.request(v);
    const text = typeof bytes === "string" ? bytes : bytes.toString("latin1");
    if (text.includes("x-revoke:")) await callerFor(side.services, { token: v.token }).auth.logout();
    if (c.limited) await rawRequest(side.url, c.request(v)); // spend the one allowed call
    answers.push(mask(await rawRequest(side.url, bytes)));
    if (side === fast || side === limitedFast) handledByFast = takenByFast(bytes);
  }
  if (handledByFast) fastStatuses.add(answers[1]!.slice(9, 12));
  return { stock: answers[0]!, fast: answers[1]!, handledByFast };
}

const fastStatuses = new Set<string>();

describe("fast tRPC adapter vs the stock adapter", () => {
  for (const c of CASES) {
    it(`${c.name}: identical bytes${c.fast ? "" : " (handed to stock)"}`, async () => {
      const { stock: a, fast: b, handledByFast } = await sendBoth(c);
      expect(b).toBe(a);
      expect(handledByFast).toBe(c.fast);
      expect(a).toMatch(/^HTTP\/1\.[01] \d{3} /);
    });
  }

  it("the corpus covers successes and every kind of failure through the fast path", () => {
    expect([...fastStatuses].sort()).toEqual(expect.arrayContaining(["200", "207", "400", "401", "404", "405", "429"]));
  });
});
