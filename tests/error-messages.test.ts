/**
 * Error messages that say what to fix: a `/trpc` body without superjson's
 * `{"json": ...}` wrapper says so; a value of the wrong type gets that one
 * message (not also a length message); a wrong current password says "Current
 * password is incorrect" with its own appCode. Each refusal changes nothing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../server/db/database.ts";
import { MISSING_WRAPPER_MESSAGE } from "../server/wire-format.ts";
import { newAccount } from "./helpers/caller.ts";
import { openTestDatabase } from "./helpers/database.ts";
import { dataOf, expectError, mutate, registerOverHttp, type Answer } from "./helpers/http.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { expectNoChange } from "./helpers/rows.ts";
import { testServices } from "./helpers/services.ts";

let db: Database;
let base: string;

beforeAll(async () => {
  db = await openTestDatabase();
  base = (await startTestServer(await testServices(db))).url;
});

async function postRaw(path: string, body: string, token?: string): Promise<Answer> {
  const res = await fetch(`${base}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text), text };
}

describe("a /trpc body without superjson's wrapper", () => {
  it("is refused with a message that shows the wrapper, and registers nobody", async () => {
    const answer = await expectNoChange(db, () => postRaw("auth.register", JSON.stringify(newAccount())));
    expect(expectError(answer, 400, "VALIDATION_FAILED").message).toBe(MISSING_WRAPPER_MESSAGE);
    expect(MISSING_WRAPPER_MESSAGE).toContain('{"json": ...}');
  });

  it("is refused the same way in a batch, and for a bare string", async () => {
    const batch = await postRaw("auth.login?batch=1", JSON.stringify({ 0: { email: "ada@example.com", password: "x" } }));
    expect(batch.status).toBe(400);
    expect((batch.body as { error: { json: { message: string } } }[])[0]!.error.json.message).toBe(MISSING_WRAPPER_MESSAGE);
    expect(expectError(await postRaw("auth.login", JSON.stringify("ada@example.com")), 400, "VALIDATION_FAILED").message).toBe(MISSING_WRAPPER_MESSAGE);
  });

  it("is not confused with `{}`, what a client sends for a procedure without input", async () => {
    const { accessToken } = await registerOverHttp(base, newAccount());
    expect(dataOf(await postRaw("auth.logout", "{}", accessToken))).toEqual({ success: true });
  });
});

describe("a value of the wrong type", () => {
  it("gets one message: a password sent as an array is a type error, not also a length error", async () => {
    const answer = await expectNoChange(db, () => mutate(base, "auth.register", { ...newAccount(), password: ["x"] }));
    const error = expectError(answer, 400, "VALIDATION_FAILED");
    expect(error.data.fieldErrors).toEqual({ password: ["Invalid input: expected string, received array"] });
    expect(error.message).toBe("Invalid input: password: expected string, received array");
  });

  it("keeps every message of a value of the right type that breaks several rules", async () => {
    const error = expectError(await mutate(base, "auth.register", { ...newAccount(), email: "not an email", password: "short" }), 400, "VALIDATION_FAILED");
    expect(error.data.fieldErrors).toEqual({ email: ["Invalid email address"], password: ["Password must be at least 8 characters"] });
    expect(error.message).toBe("Invalid input: email: Invalid email address; password: Password must be at least 8 characters");
  });
});

describe("a wrong current password", () => {
  it.each([
    ["auth.changePassword", (password: string) => ({ currentPassword: password, newPassword: "another long passphrase" })],
    ["auth.deleteAccount", (password: string) => ({ password })],
  ])("%s answers CURRENT_PASSWORD_INVALID, 'Current password is incorrect', and changes nothing", async (path, input) => {
    const { accessToken } = await registerOverHttp(base, newAccount());
    const answer = await expectNoChange(db, () => mutate(base, path, input("not my password at all"), { token: accessToken }));
    expect(expectError(answer, 403, "CURRENT_PASSWORD_INVALID").message).toBe("Current password is incorrect");
  });
});
