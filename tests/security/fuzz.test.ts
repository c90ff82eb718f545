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
import type { Database } from "../../server/db/database.ts";
import { newAccount } from "../helpers/caller.ts";
import { openTestDatabase } from "../helpers/database.ts";
import { dataOf, expectError, mutate, query, registerOverHttp, type Answer } from "../helpers/http.ts";
import { startTestServer } from "../helpers/http-server.ts";
import { expectNoChange, rowCounts } from "../helpers/rows.ts";
import { TestClock, testServices } from "../helpers/services.ts";
import { totpCode } from "../helpers/totp.ts";

/** Runs per procedure and property; the whole file stays around half a minute on two cores. */
const RUNS = 50;

let base: string;
let db: Database;
const clock = new TestClock(new Date("2026-01-01T00:00:10Z"));

beforeAll(async () => {
  db = await openTestDatabase();
  base = (await startTestServer(await testServices(db, { clock }))).url;
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
  fc.constantFrom(
    "email",
    "password",
    "name",
    "refreshToken",
    "token",
    "newPassword",
    "currentPassword",
    "sessionId",
    "code",
    "mfaToken",
    "response",
    "challengeId",
    "id",
    "__proto__",
    "constructor",
    "role",
  ),
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

/** A user with TOTP on, over HTTP; its secret, and an mfaToken of a fresh sign-in. */
async function enrolledOverHttp() {
  const account = newAccount();
  const { accessToken } = await registerOverHttp(base, account);
  const setup = dataOf(await mutate(base, "mfa.totpSetup", { password: account.password }, { token: accessToken }));
  dataOf(await mutate(base, "mfa.totpEnable", { code: totpCode(setup.secret, clock.now()) }, { token: accessToken }));
  clock.advance(60);
  const challenge = dataOf(await mutate(base, "auth.login", { email: account.email, password: account.password }));
  expect(challenge.mfaRequired).toBe(true);
  return { account, accessToken, secret: setup.secret as string, mfaToken: challenge.mfaToken as string };
}

describe("second-factor bad input gets a clear error and changes nothing", () => {
  /** Codes the schema refuses: wrong length, 7 digits, letters outside base32, empty, padded digits. */
  const malformedCode = fc.oneof(
    // Ten digits 2-7 are a well-formed recovery code (base32), not a malformed one.
    fc.stringMatching(/^\d{7,12}$/).filter((s) => !/^[2-7]{10}$/.test(s)),
    fc.stringMatching(/^\d{1,5}$/),
    fc.string().filter((s) => !/^\s*(\d{6}|[A-Za-z2-7]{5}-?[A-Za-z2-7]{5})\s*$/.test(s)),
    fc.constantFrom("", "1234567", "12345", "12 3456", "abcde-fghi1", "０１２３４５", "123456\u0000"),
  );

  it("auth.verifyMfa with a malformed code (7 digits, letters, empty, ...) answers VALIDATION_FAILED naming `code`", async () => {
    const { mfaToken } = await enrolledOverHttp();
    await fc.assert(
      fc.asyncProperty(malformedCode, async (code) => {
        const answer = await expectNoChange(db, () => mutate(base, "auth.verifyMfa", { mfaToken, code }));
        const error = expectError(answer, 400, "VALIDATION_FAILED");
        expect(Object.keys(error.data.fieldErrors)).toEqual(["code"]);
      }),
      { numRuns: RUNS },
    );
  });

  it("mfa.totpEnable and mfa.totpDisable with a malformed code answer VALIDATION_FAILED", async () => {
    const { account, accessToken } = await enrolledOverHttp();
    await fc.assert(
      fc.asyncProperty(malformedCode, async (code) => {
        await expectNoChange(db, async () => {
          expectError(await mutate(base, "mfa.totpEnable", { code }, { token: accessToken }), 400, "VALIDATION_FAILED");
          expectError(await mutate(base, "mfa.totpDisable", { password: account.password, code }, { token: accessToken }), 400, "VALIDATION_FAILED");
        });
      }),
      { numRuns: RUNS },
    );
  });

  it("auth.verifyMfa with a made-up, foreign or tampered mfaToken answers MFA_TOKEN_INVALID (or VALIDATION_FAILED when too long)", async () => {
    const { secret, mfaToken } = await enrolledOverHttp();
    const [id] = mfaToken.split(".") as [string];
    const forged = fc.oneof(
      fc.string({ minLength: 1, maxLength: 600 }),
      fc.uuid().map((u) => `${u}.${"x".repeat(43)}`),
      fc.stringMatching(/^[A-Za-z0-9_-]{43}$/).map((secretPart) => `${id}.${secretPart}`),
    );
    await fc.assert(
      fc.asyncProperty(forged, async (token) => {
        const answer = await expectNoChange(db, () => mutate(base, "auth.verifyMfa", { mfaToken: token, code: totpCode(secret, clock.now()) }));
        const appCode = answer.body?.error?.json?.data?.appCode;
        if (token.length > 512) expectError(answer, 400, "VALIDATION_FAILED");
        else expectError(answer, 401, "MFA_TOKEN_INVALID");
        expect(["MFA_TOKEN_INVALID", "VALIDATION_FAILED"]).toContain(appCode);
      }),
      { numRuns: RUNS },
    );
  });

  it("an expired mfaToken answers MFA_TOKEN_INVALID with the right code and changes nothing", async () => {
    const { secret, mfaToken } = await enrolledOverHttp();
    clock.advance(5 * 60);
    const answer = await expectNoChange(db, () => mutate(base, "auth.verifyMfa", { mfaToken, code: totpCode(secret, clock.now()) }));
    expectError(answer, 401, "MFA_TOKEN_INVALID");
  });

  it("an mfaToken of another user does not sign in with this user's code", async () => {
    const alice = await enrolledOverHttp();
    const bob = await enrolledOverHttp();
    const answer = await mutate(base, "auth.verifyMfa", { mfaToken: alice.mfaToken, code: totpCode(bob.secret, clock.now()) });
    expectError(answer, 401, "MFA_CODE_INVALID");
  });

  it("a setup that is never confirmed expires and leaves no factor", async () => {
    const account = newAccount();
    const { accessToken } = await registerOverHttp(base, account);
    const setup = dataOf(await mutate(base, "mfa.totpSetup", { password: account.password }, { token: accessToken }));
    clock.advance(10 * 60 + 1);
    expectError(await mutate(base, "mfa.totpEnable", { code: totpCode(setup.secret, clock.now()) }, { token: accessToken }), 400, "MFA_NOT_ENABLED");
    expect(dataOf(await query(base, "mfa.status", undefined, { token: accessToken }))).toEqual({ totp: false, recoveryCodesLeft: 0, passkeys: 0 });
    expect(dataOf(await query(base, "auth.me", undefined, { token: accessToken })).twoFactorEnabled).toBe(false);
    const login = dataOf(await mutate(base, "auth.login", { email: account.email, password: account.password }));
    expect(login.mfaRequired).toBe(false);
  });
});

describe("garbage WebAuthn responses get a clear error and change nothing", () => {
  const base64url = fc.base64String({ maxLength: 200 }).map((b) => b.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));
  /** Responses of the right JSON shape with random content (or a clientDataJSON that is JSON with a random challenge). */
  const response = fc.record({
    id: base64url.filter((v) => v.length > 0),
    rawId: base64url.filter((v) => v.length > 0),
    type: fc.constant("public-key"),
    response: fc.record({
      clientDataJSON: fc.oneof(
        base64url,
        fc.record({ type: fc.constantFrom("webauthn.get", "webauthn.create"), challenge: base64url, origin: fc.constant("http://localhost:3000") }).map((c) =>
          Buffer.from(JSON.stringify(c)).toString("base64url"),
        ),
      ),
      authenticatorData: base64url,
      signature: base64url,
      attestationObject: base64url,
      userHandle: fc.option(base64url, { nil: undefined }),
    }),
    clientExtensionResults: fc.constant({}),
  });

  it("passkey.authenticate answers PASSKEY_INVALID; only the challenge it named is spent", async () => {
    await fc.assert(
      fc.asyncProperty(response, async (garbage) => {
        const { challengeId } = dataOf(await mutate(base, "passkey.authenticationOptions"));
        const before = await rowCounts(db);
        expectError(await mutate(base, "passkey.authenticate", { challengeId, response: garbage }), 401, "PASSKEY_INVALID");
        expect(await rowCounts(db)).toEqual({ ...before, usedWebauthnChallenges: before.usedWebauthnChallenges + 1 });
      }),
      { numRuns: RUNS },
    );
  });

  it("passkey.register answers PASSKEY_INVALID and changes nothing", async () => {
    const { accessToken } = await registerOverHttp(base, newAccount());
    dataOf(await mutate(base, "passkey.registrationOptions", undefined, { token: accessToken }));
    await fc.assert(
      fc.asyncProperty(response, async (garbage) => {
        await expectNoChange(db, async () =>
          expectError(await mutate(base, "passkey.register", { response: garbage }, { token: accessToken }), 401, "PASSKEY_INVALID"),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it("responses of the wrong shape answer VALIDATION_FAILED and change nothing", async () => {
    const { accessToken } = await registerOverHttp(base, newAccount());
    const { challengeId } = dataOf(await mutate(base, "passkey.authenticationOptions"));
    const wrong = fc.oneof(
      fc.jsonValue(),
      response.map((r) => ({ ...r, type: "password" })),
      response.map((r) => ({ ...r, response: { ...r.response, clientDataJSON: "not base64url!" } })),
      response.map((r) => ({ ...r, id: "" })),
    );
    await fc.assert(
      fc.asyncProperty(wrong, async (garbage) => {
        await expectNoChange(db, async () => {
          expectError(await mutate(base, "passkey.authenticate", { challengeId, response: garbage }), 400, "VALIDATION_FAILED");
          expectError(await mutate(base, "passkey.register", { response: garbage }, { token: accessToken }), 400, "VALIDATION_FAILED");
        });
      }),
      { numRuns: RUNS },
    );
  });
});

/** Every Unicode format character (general category Cf): bidi controls, zero-width spaces and joiners, ... */
const FORMAT_CHARACTERS = Array.from({ length: 0x110000 }, (_, cp) => cp)
  .filter((cp) => (cp < 0xd800 || cp > 0xdfff) && /\p{Cf}/u.test(String.fromCodePoint(cp)))
  .map((cp) => String.fromCodePoint(cp));

describe("names with invisible format characters (Unicode Cf) are refused and change nothing", () => {
  const visible = fc.string({ unit: "grapheme", maxLength: 10 }).filter((s) => !/[\p{Cc}\p{Cf}]/u.test(s));
  const spoofed = fc.tuple(visible, fc.constantFrom(...FORMAT_CHARACTERS), visible).map(([a, cf, b]) => `A${a}${cf}${b}`);

  it("knows the bidi overrides and zero-width characters as Cf", () => {
    expect(FORMAT_CHARACTERS).toEqual(expect.arrayContaining(["\u202E", "\u202D", "\u2066", "\u200B", "\u200D", "\uFEFF", "\u00AD"]));
  });

  it("auth.register with such a name answers VALIDATION_FAILED naming `name`, and creates no account", async () => {
    await fc.assert(
      fc.asyncProperty(spoofed, async (name) => {
        const answer = await expectNoChange(db, () => mutate(base, "auth.register", newAccount({ name })));
        const error = expectError(answer, 400, "VALIDATION_FAILED");
        expect(error.data.fieldErrors.name, JSON.stringify(name)).toEqual(["Name must not contain control or invisible formatting characters"]);
      }),
      { numRuns: RUNS },
    );
  });

  it("user.updateProfile with such a name answers VALIDATION_FAILED and keeps the old name", async () => {
    const account = newAccount();
    const { accessToken } = await registerOverHttp(base, account);
    await fc.assert(
      fc.asyncProperty(spoofed, async (name) => {
        const error = expectError(await mutate(base, "user.updateProfile", { name }, { token: accessToken }), 400, "VALIDATION_FAILED");
        expect(Object.keys(error.data.fieldErrors)).toEqual(["name"]);
      }),
      { numRuns: RUNS },
    );
    expect(dataOf(await query(base, "auth.me", undefined, { token: accessToken })).name).toBe(account.name);
  });
});
