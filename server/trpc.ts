/**
 * tRPC is initialised here, once. This file decides which base procedures
 * exist: `publicProcedure` and `protectedProcedure`; it never exports `t`.
 */
import { getTRPCErrorFromUnknown, initTRPC, TRPCError } from "@trpc/server";
import * as z from "zod";
import { bearerToken } from "./sessions/bearer.ts";
import { resolveSession, touchSession } from "./sessions/sessions.ts";
import type { Context } from "./context.ts";
import { isDatabaseUnavailable } from "./db/unavailable.ts";
import { AppError, appCodeOf, appError, flattenValidation, messageOf, validationMessage, type AppCode } from "./errors.ts";
import { clientKey } from "./limits/limits.ts";
import { logSecurityEvent, type SecurityEventName } from "./audit/security-log.ts";
import type { ProcedureMeta } from "./procedure-meta.ts";
import { MissingWrapperError, wireTransformer } from "./wire-format.ts";
import { permissionsOf, type Permission } from "./admin/permissions.ts";
import { refusedWhileImpersonating, recordImpersonatedCall } from "./admin/impersonation.ts";

/**
 * What the client may read. Anything we did not throw on purpose is answered as
 * INTERNAL: its text may carry SQL, ORM or file details, which only development
 * may see. tRPC's own bare messages (the code itself) get the catalogue's words.
 */
function publicMessage(error: TRPCError, appCode: AppCode, message: string, development: boolean): string {
  if (error instanceof AppError) return message;
  if (appCode === "INTERNAL") return development ? message : messageOf("INTERNAL");
  return message === error.code ? messageOf(appCode) : message;
}

/** The one answer to any input the decoders (JSON.parse, superjson) could not read. */
export const UNDECODABLE_INPUT_MESSAGE = "Invalid input: the request body or query could not be decoded";

/**
 * tRPC's own refusals (a batch too large, a batch input that is not an object)
 * come without a cause and say something useful. An exception raised while
 * decoding the input (JSON.parse, superjson: "Maximum call stack size
 * exceeded", "Cannot convert <the caller's input> to a BigInt") describes the
 * decoder's internals and echoes the caller's bytes: it is answered with one
 * fixed message, in every environment (OWASP Error Handling Cheat Sheet).
 * A body without superjson's wrapper is told what to send (server/wire-format.ts).
 */
function decodeFailureMessage(error: TRPCError, message: string): string {
  if (error.cause instanceof MissingWrapperError) return error.cause.message;
  return error.cause instanceof Error ? UNDECODABLE_INPUT_MESSAGE : message;
}

/** What a client may read of an error: its appCode, message, field errors, and (development only) stack. */
export interface PublicError {
  appCode: AppCode;
  message: string;
  fieldErrors?: Record<string, string[]>;
  stack?: string;
}

/** The one description of an error for clients, used by tRPC's formatter and the REST bridge. */
export function describeError(error: TRPCError, development: boolean): PublicError {
  const appCode = appCodeOf(error);
  if (appCode === "VALIDATION_FAILED") {
    const { fieldErrors, formErrors } =
      error.cause instanceof z.ZodError ? flattenValidation(error.cause) : { fieldErrors: {}, formErrors: [] as string[] };
    const fields = fieldErrors as Record<string, string[]>;
    return {
      appCode,
      message: error.cause instanceof z.ZodError ? validationMessage(fields, formErrors) : decodeFailureMessage(error, error.message),
      fieldErrors: formErrors.length > 0 ? { ...fields, input: formErrors } : fields,
    };
  }
  return {
    appCode,
    message: publicMessage(error, appCode, error.message, development),
    ...(development && appCode === "INTERNAL" && error.stack ? { stack: error.stack } : {}),
  };
}

const t = initTRPC.context<Context>().meta<ProcedureMeta>().create({
  transformer: wireTransformer,
  // Stacks are added below, in development only.
  isDev: false,
  // auth.events: a comment line every 15 s keeps proxies from closing an idle
  // stream, and tells the client to reconnect (resuming) after 30 s of silence.
  sse: { ping: { enabled: true, intervalMs: 15_000 }, client: { reconnectAfterInactivityMs: 30_000 } },
  errorFormatter({ shape, error, ctx }) {
    const { message, ...data } = describeError(error, ctx?.services.config.development ?? false);
    return { ...shape, message, data: { ...shape.data, ...data } };
  },
});

/** A middleware's result, with "database unreachable" failures as DB_UNAVAILABLE (503) instead of a 500. */
function classified<R extends { ok: boolean; error?: TRPCError }>(result: R): R {
  const error = result.ok ? undefined : result.error;
  if (error && !(error instanceof AppError) && isDatabaseUnavailable(error.cause)) {
    return { ...result, error: appError("DB_UNAVAILABLE", { cause: error.cause }) };
  }
  return result;
}

/**
 * What the security line of a call needs to know from inside the chain: who
 * the call concerns when only its resolver knows (a reset token's owner), the
 * authenticated caller, whether the token was refused, and which limit refused it.
 */
interface AuditNote {
  userId: string | null;
  caller: string | null;
  denied: boolean;
  limit?: "ip";
}

/** The user id an auth result carries (`{ user: { id } }`), if any. */
function userIdOfOutput(data: unknown): string | null {
  const id = (data as { user?: { id?: unknown } } | null | undefined)?.user?.id;
  return typeof id === "string" ? id : null;
}

/** The email a call was about, from its raw input (before parsing: refused calls have one too). */
async function emailOfInput(getRawInput: () => Promise<unknown>): Promise<string | null> {
  try {
    const email = ((await getRawInput()) as { email?: unknown } | null | undefined)?.email;
    return typeof email === "string" && email.length <= 254 ? email : null;
  } catch {
    // Undecodable input: there is no email to name.
    return null;
  }
}

/**
 * Writes the security line of one call (server/audit/security-log.ts): every
 * mutation is an auth decision, logged once, whatever its result, with the
 * event named by its path; so is a refused token on a query (`access.denied`).
 */
async function logDecision(
  ctx: Context,
  event: string,
  audit: AuditNote,
  result: { ok: true; data: unknown } | { ok: false; error: TRPCError },
  getRawInput: () => Promise<unknown>,
): Promise<void> {
  const error = result.ok ? undefined : result.error;
  const appCode = error ? appCodeOf(error) : null;
  const userId =
    audit.userId ?? audit.caller ?? (result.ok ? userIdOfOutput(result.data) : error instanceof AppError ? (error.userId ?? null) : null);
  logSecurityEvent(ctx.services, {
    event: event as SecurityEventName,
    outcome: result.ok ? "success" : "failure",
    appCode,
    userId,
    email: userId === null ? await emailOfInput(getRawInput) : null,
    ip: ctx.meta.ip,
    requestId: ctx.requestId,
    ...(appCode === "RATE_LIMITED" ? { limit: audit.limit ?? "account" } : {}),
  });
}

/** A refused token says nothing about the input: it is not read for the log. */
const noInput = async () => undefined;

/** What a builder's middleware knows of its call. */
interface Call {
  ctx: Context;
  type: string;
  path: string;
  getRawInput: () => Promise<unknown>;
}

/**
 * Every call, once, around everything else: its guard (the IP limit, or the
 * bearer token) and the rest of the chain run inside; "database unreachable"
 * failures become DB_UNAVAILABLE (503) instead of a 500, and each mutation (and
 * each refused token) writes its security line. The one place errors are
 * classified. A function each builder's single middleware calls, not a
 * middleware of its own: every middleware level costs each call several object
 * copies inside tRPC (an A/B of auth.me on PostgreSQL: one more level cost about 9% of its throughput).
 */
async function decided<R extends { ok: true; data: unknown } | { ok: false; error: TRPCError }>(
  call: Call,
  audit: AuditNote,
  run: () => Promise<R>,
): Promise<R> {
  let result: R;
  try {
    result = classified(await run());
  } catch (cause) {
    // The guard refused: the same classification, then the error goes on up.
    const refused = classified({ ok: false as const, error: getTRPCErrorFromUnknown(cause) });
    await logIfDecision(call, audit, refused);
    throw refused.error;
  }
  await logIfDecision(call, audit, result);
  return result;
}

async function logIfDecision(call: Call, audit: AuditNote, result: { ok: true; data: unknown } | { ok: false; error: TRPCError }): Promise<void> {
  if (call.type !== "mutation" && !audit.denied) return;
  const event = call.type === "mutation" ? call.path : "access.denied";
  await logDecision(call.ctx, event, audit, result, audit.denied ? noInput : call.getRawInput);
}

const newAudit = (): AuditNote => ({ userId: null, caller: null, denied: false });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * A procedure anyone may call. AUTH_RATE_LIMIT_PER_MINUTE (docs/API.md) counts
 * each of its mutations against the caller's IP, each call of a batch on its
 * own, and before its input is parsed, so that invalid calls are not free either.
 */
export const publicProcedure = t.procedure.use(async function limitPublicMutations(call) {
  const { ctx, type, next } = call;
  const audit = newAudit();
  return decided(call, audit, async () => {
    if (type === "mutation") {
      try {
        await ctx.services.limits.authCalls.consume(clientKey(ctx.meta.ip));
      } catch (error) {
        audit.limit = "ip";
        throw error;
      }
    }
    return next({ ctx: { audit } });
  });
});

/**
 * A procedure that requires `Authorization: Bearer <accessToken>`. The user and
 * session are resolved live from the database before the resolver runs, so a
 * revoked session is refused on the very next request.
 */
export const protectedProcedure = t.procedure.use(async function authenticate(call) {
  const { ctx, path, next } = call;
  const { services } = ctx;
  const audit = newAudit();
  return decided(call, audit, async () => {
    let resolved;
    try {
      const claims = services.accessTokens.verify(bearerToken(ctx.authorization), services.now());
      resolved = await resolveSession(services, claims.sub, claims.sid);
      ctx.trace.userId = resolved.user.id;
      const { impersonator } = resolved.session;
      if (impersonator !== null) {
        // Every call of an impersonation session is on the record under the actor, refused ones too.
        await recordImpersonatedCall(services, { actorId: impersonator.id, userId: resolved.user.id, path, meta: ctx.meta });
        if (refusedWhileImpersonating(path)) throw appError("FORBIDDEN", { userId: resolved.user.id });
      }
      await touchSession(services, resolved.session);
    } catch (error) {
      audit.denied = true;
      throw error;
    }
    audit.caller = resolved.user.id;
    // Roles are read with the session on every call, so a change applies from
    // the next request. An impersonation session holds no permission at all.
    const permissions = resolved.session.impersonator === null ? permissionsOf(resolved.user.roles) : [];
    return next({ ctx: { audit, user: resolved.user, session: resolved.session, permissions } });
  });
});

/** The middleware `protectedProcedure` adds. */
const authenticate = protectedProcedure._def.middlewares.at(-1);

/** Whether a procedure was built on `protectedProcedure` (and so needs `Authorization: Bearer`). */
export function requiresBearer(procedure: { _def: { middlewares: readonly unknown[] } }): boolean {
  return procedure._def.middlewares.includes(authenticate!);
}

/**
 * A protected procedure that needs `permission` (server/admin/permissions.ts);
 * without it the call answers FORBIDDEN before its input is parsed. The
 * permission is also the procedure's meta, so the REST bridge, /openapi.json
 * and the panel show it.
 */
export function adminProcedure(permission: Permission) {
  return protectedProcedure.meta({ permission }).use(({ ctx, next }) => {
    requirePermission(ctx.permissions, permission, ctx.user.id);
    return next();
  });
}

/** Throws FORBIDDEN unless `granted` holds `permission`. */
function requirePermission(granted: readonly Permission[], permission: Permission, userId?: string): void {
  if (!granted.includes(permission)) throw appError("FORBIDDEN", { userId });
}
