/** Calling procedures through the whole middleware chain, as HTTP would. */
import { createCaller } from "../../routers/_app.ts";
import { createContextInner } from "../../server/context.ts";
import type { Services } from "../../server/services.ts";

export interface CallerOptions {
  /** An access token, sent as `Bearer <token>`. */
  token?: string;
  /** A raw Authorization header, for malformed-header tests. */
  authorization?: string;
  ip?: string;
  userAgent?: string;
}

/** A caller whose context is built exactly as the HTTP adapter builds it. */
export function callerFor(services: Services, options: CallerOptions = {}) {
  const authorization = options.authorization ?? (options.token ? `Bearer ${options.token}` : null);
  return createCaller(
    createContextInner({
      services,
      authorization,
      meta: { ip: options.ip ?? "127.0.0.1", userAgent: options.userAgent ?? "vitest" },
    }),
  );
}

let counter = 0;

/** A unique, valid registration input. */
export function newAccount(overrides: Partial<{ email: string; password: string; name: string }> = {}) {
  counter++;
  return {
    email: `user${counter}-${Date.now()}@example.com`,
    password: "correct horse battery staple",
    name: `User ${counter}`,
    ...overrides,
  };
}

/**
 * The session of a sign-in that was expected to need no second step;
 * throws when `auth.login` answered a second-factor challenge instead.
 */
export function signedIn<T extends { mfaRequired: boolean }>(result: T): Extract<T, { mfaRequired: false }> {
  if (result.mfaRequired) throw new Error("expected a session, got a second-factor challenge");
  return result as Extract<T, { mfaRequired: false }>;
}
