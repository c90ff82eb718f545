/**
 * Property-based tests (fast-check) over every procedure's input: arbitrary
 * JSON, raw or in superjson's envelope, with and without a bearer token,
 * never yields a 500, and every answer is the contract's envelope (docs/API.md,
 * "Errors") with a catalogue appCode and a matching HTTP status.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "../../routers/_app.ts";
import { trpcCodeOf, type AppCode } from "../../server/errors.ts";
import { newAccount } from "../helpers/caller.ts";
import { openTestDatabase } from "../helpers/database.ts";
import { registerOverHttp, type Answer } from "../helpers/http.ts";
import { startTestServer } from "../helpers/http-server.ts";
import { testServices } from "../helpers/services.ts";

/** Runs per procedure and property; the whole file stays around half a minute on two cores. */
const RUNS = 50;

let base: string;

beforeAll(async () => {
  const db = await openTestDatabase();
  base = (await startTestServer(await testServices(db))).url;
});

const allProcedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>).map(
  ([path, procedure]) => ({ path, type: procedure._def.type as "query" | "mutation" | "subscription" }),
);
/** Queries and mutations answer JSON envelopes; subscriptions answer server-sent events (fuzzed below). */
const procedures = allProcedures.filter((p): p is { path: string; type: "query" | "mutation" } => p.type !== "subscription");
const subscriptions = allProcedures.filter((p) => p.type === "subscription").map((p) => p.path);

/** Values shaped like our inputs (the right keys, hostile values), so that fuzzing gets past the object check. */
const fieldValue = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.constantFrom("", " ", "a@b.co", "A@B.CO ", "\u212Aate@example.com", "x".repeat(129), "x".repeat(300), "__proto__", "null", "0"),
  fc.jsonValue({ maxDepth: 2 }),
);
const inputLike = fc.dictionary(
  fc.constantFrom("email", "password", "name", "refreshToken", "token", "newPassword", "currentPassword", "sessionId", "__proto__", "constructor", "role"),
  fieldValue,
);

/** A request body or query input: superjson's envelope, a raw value, or an envelope with arbitrary meta. */
const payload = fc.oneof(
  inputLike.map((v) => JSON.stringify({ json: v })),
  fc.jsonValue().map((v) => JSON.stringify({ json: v })),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.tuple(inputLike, fc.jsonValue({ maxDepth: 3 })).map(([json, meta]) => JSON.stringify({ json, meta })),
  fc.tuple(inputLike, fc.dictionary(fc.string(), fc.constantFrom(["Date"], ["map"], ["set"], ["bigint"], ["regexp"], ["undefined"], ["custom", "x"], ["class", "Y"], ["symbol", "z"]))).map(
    ([json, values]) => JSON.stringify({ json, meta: { values } }),
  ),
  fc.string({ maxLength: 200 }),
);

const ENVELOPE_ERROR_KEYS = new Set(["code", "httpStatus", "path", "appCode", "fieldErrors"]);

function isAppCode(value: unknown): value is AppCode {
  try {
    return typeof value === "string" && trpcCodeOf(value as AppCode) !== undefined;
  } catch {
    return false;
  }
}

/** The answer is a success or tRPC's error envelope with a catalogue appCode, and never a 500. */
function checkEnvelope(answer: Answer, label: string): void {
  expect(answer.status, `${label}: ${answer.text}`).not.toBe(500);
  expect(answer.status, label).toBeLessThan(600);
  expect(typeof answer.body, `${label}: not JSON: ${answer.text}`).toBe("object");
  if (answer.status === 200) {
    expect(Object.keys(answer.body), label).toEqual(["result"]);
    expect(answer.body.result).toHaveProperty("data");
    return;
  }
  const error = answer.body?.error?.json;
  expect(Object.keys(answer.body), `${label}: ${answer.text}`).toEqual(["error"]);
  expect(typeof error?.message, label).toBe("string");
  expect(typeof error?.code, label).toBe("number");
  expect(error.data.httpStatus, label).toBe(answer.status);
  expect(isAppCode(error.data.appCode), `${label}: appCode ${error.data.appCode}`).toBe(true);
  expect(error.data.code, label).toBe(trpcCodeOf(error.data.appCode));
  for (const key of Object.keys(error.data)) expect(ENVELOPE_ERROR_KEYS.has(key), `${label}: unexpected data.${key}`).toBe(true);
  expect(answer.text, label).not.toMatch(/\bat \S+ \(|node_modules|prisma|SELECT |INSERT /i);
}

async function send(path: string, type: "query" | "mutation", body: string, token: string | null): Promise<Answer> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const res =
    type === "mutation"
      ? await fetch(`${base}/trpc/${path}`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body })
      : await fetch(`${base}/trpc/${path}?input=${encodeURIComponent(body)}`, { headers });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // checkEnvelope reports it.
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

describe("arbitrary input to every procedure", () => {
  it("covers every procedure of the router", () => {
    expect(procedures.map((p) => p.path)).toEqual(expect.arrayContaining(["auth.register", "auth.login", "auth.refresh", "auth.me", "health"]));
  });

  it.each(procedures)("$path ($type) never answers 500 or leaves the envelope", async ({ path, type }) => {
    // A fresh account per procedure, so that a random logout or deletion only spends its own token.
    const { accessToken } = await registerOverHttp(base, newAccount());
    await fc.assert(
      fc.asyncProperty(payload, fc.boolean(), async (body, withToken) => {
        checkEnvelope(await send(path, type, body, withToken ? accessToken : null), `${path} ${body.slice(0, 200)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(subscriptions)("%s (subscription) never answers 500, and refuses with tRPC's envelope in an SSE error event", async (path) => {
    const { accessToken } = await registerOverHttp(base, newAccount());
    await fc.assert(
      fc.asyncProperty(payload, fc.boolean(), async (body, withToken) => {
        const controller = new AbortController();
        const res = await fetch(`${base}/trpc/${path}?input=${encodeURIComponent(body)}`, {
          headers: { accept: "text/event-stream", ...(withToken ? { authorization: `Bearer ${accessToken}` } : {}) },
          signal: controller.signal,
        });
        const label = `${path} ${body.slice(0, 200)}`;
        expect(res.status, label).not.toBe(500);
        // Read until tRPC's error event, or give an accepted stream 200 ms to refuse.
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        const stop = setTimeout(() => controller.abort(), 200);
        let text = "";
        try {
          while (!/event: serialized-error\ndata: .*\n/.test(text)) {
            const { value, done } = await reader.read();
            if (done) break;
            text += value;
          }
        } catch {
          // aborted: the stream was accepted
        } finally {
          clearTimeout(stop);
          controller.abort();
        }
        const error = /event: serialized-error\ndata: (.*)\n/.exec(text)?.[1];
        if (error === undefined) {
          expect(res.headers.get("content-type"), label).toMatch(/^text\/event-stream/);
          return;
        }
        const parsed = JSON.parse(error) as { json: unknown };
        checkEnvelope({ status: (parsed.json as { data: { httpStatus: number } }).data.httpStatus, headers: res.headers, body: { error: parsed }, text: error }, label);
      }),
      { numRuns: RUNS },
    );
  });

  it("a batch of arbitrary calls never answers 500 or leaves the envelope", async () => {
    const { accessToken } = await registerOverHttp(base, newAccount());
    const sameType = (type: "query" | "mutation") => procedures.filter((p) => p.type === type).map((p) => p.path);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("query" as const, "mutation" as const).chain((type) =>
          fc.tuple(fc.constant(type), fc.array(fc.constantFrom(...sameType(type)), { minLength: 1, maxLength: 10 }), fc.array(payload, { maxLength: 10 })),
        ),
        async ([type, paths, bodies]) => {
          const inputs = Object.fromEntries(bodies.map((b, i) => [i, safeParse(b)]));
          const answer = await send(`${paths.join(",")}?batch=1`, type, JSON.stringify(inputs), accessToken);
          expect(answer.status).not.toBe(500);
          const items = Array.isArray(answer.body) ? answer.body : [answer.body];
          for (const item of items) checkEnvelope({ ...answer, status: item.error ? item.error.json.data.httpStatus : 200, body: item, text: JSON.stringify(item) }, paths.join(","));
        },
      ),
      { numRuns: RUNS },
    );
  });
});

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
