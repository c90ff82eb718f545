/** Raw HTTP calls to `/trpc`, as a browser or curl would make them, and assertions on the answers. */
import { expect } from "vitest";
import type { AppCode } from "../../server/errors.ts";

export interface CallOptions {
  /** An access token, sent as `Bearer <token>`. */
  token?: string;
  /** Extra or overriding request headers (a raw `authorization`, `x-forwarded-for`, ...). */
  headers?: Record<string, string>;
}

/** A decoded answer: status, headers and the parsed JSON body (or the text when it is not JSON). */
export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the test sees the text.
  }
  return { status: res.status, headers: res.headers, body, text };
}

function headersFor(options: CallOptions, json: boolean): Record<string, string> {
  return {
    ...(json ? { "content-type": "application/json" } : {}),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...options.headers,
  };
}

/** POSTs a mutation with `{"json": input}` (or a raw string body as given). */
export async function mutate(base: string, path: string, input?: unknown, options: CallOptions = {}): Promise<Answer> {
  const body = typeof input === "string" ? input : JSON.stringify(input === undefined ? {} : { json: input });
  return answer(await fetch(`${base}/trpc/${path}`, { method: "POST", headers: headersFor(options, true), body }));
}

/** GETs a query, with its input in the query string when given. */
export async function query(base: string, path: string, input?: unknown, options: CallOptions = {}): Promise<Answer> {
  const qs = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
  return answer(await fetch(`${base}/trpc/${path}${qs}`, { headers: headersFor(options, false) }));
}

/** The `result.data.json` of a successful call; fails the test otherwise. */
export function dataOf<T = any>(a: Answer): T {
  expect(a.status, a.text).toBe(200);
  return a.body.result.data.json as T;
}

/** Asserts an error answer in tRPC's envelope with this HTTP status and appCode; returns the error's json. */
export function expectError(a: Answer, status: number, appCode: AppCode): any {
  expect({ status: a.status, appCode: a.body?.error?.json?.data?.appCode }, a.text).toEqual({ status, appCode });
  expect(a.body.error.json.data.httpStatus).toBe(status);
  return a.body.error.json;
}

/** Registers an account over HTTP and returns its AuthResult. */
export async function registerOverHttp(
  base: string,
  account: { email: string; password: string; name: string },
  options: CallOptions = {},
) {
  return dataOf<{ accessToken: string; refreshToken: string; user: { id: string; email: string } }>(
    await mutate(base, "auth.register", account, options),
  );
}
