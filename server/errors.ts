/**
 * The error catalogue (docs/API.md): every stable `appCode`, its tRPC
 * code and its public message. Procedures throw through `appError(code)`;
 * nothing else builds error messages for clients.
 */
import { TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import * as z from "zod";

const CATALOGUE = {
  VALIDATION_FAILED: ["BAD_REQUEST", "Invalid input"],
  WEAK_PASSWORD: ["BAD_REQUEST", "Password is too weak"],
  EMAIL_TAKEN: ["CONFLICT", "An account with this email already exists"],
  INVALID_CREDENTIALS: ["UNAUTHORIZED", "Invalid email or password"],
  TOKEN_MISSING: ["UNAUTHORIZED", "Missing bearer token"],
  TOKEN_INVALID: ["UNAUTHORIZED", "Invalid access token"],
  TOKEN_EXPIRED: ["UNAUTHORIZED", "Access token expired"],
  SESSION_REVOKED: ["UNAUTHORIZED", "Session has been revoked"],
  REFRESH_TOKEN_INVALID: ["UNAUTHORIZED", "Invalid refresh token"],
  REFRESH_TOKEN_REUSED: ["UNAUTHORIZED", "Refresh token was already used; the session has been revoked"],
  RESET_TOKEN_INVALID: ["BAD_REQUEST", "Invalid or expired password reset token"],
  VERIFICATION_TOKEN_INVALID: ["BAD_REQUEST", "Invalid or expired verification token"],
  RATE_LIMITED: ["TOO_MANY_REQUESTS", "Too many requests, try again later"],
  CURRENT_PASSWORD_INVALID: ["FORBIDDEN", "Current password is incorrect"],
  MFA_CODE_INVALID: ["UNAUTHORIZED", "Invalid two-factor code"],
  MFA_TOKEN_INVALID: ["UNAUTHORIZED", "Invalid or expired two-factor sign-in, sign in again"],
  MFA_ALREADY_ENABLED: ["CONFLICT", "Two-factor authentication is already enabled"],
  MFA_NOT_ENABLED: ["BAD_REQUEST", "Two-factor authentication is not enabled"],
  PASSKEY_INVALID: ["UNAUTHORIZED", "Passkey verification failed"],
  MAGIC_LINK_INVALID: ["BAD_REQUEST", "Invalid or expired sign-in link"],
  EMAIL_CODE_INVALID: ["UNAUTHORIZED", "Invalid or expired sign-in code"],
  PASSWORD_NOT_SET: ["BAD_REQUEST", "This account has no password yet; set one with auth.setPassword"],
  PASSWORD_ALREADY_SET: ["CONFLICT", "This account already has a password; use auth.changePassword"],
  OAUTH_PROVIDER_UNKNOWN: ["NOT_FOUND", "Unknown or unconfigured sign-in provider"],
  OAUTH_REDIRECT_INVALID: ["BAD_REQUEST", "Redirect URL is not allowed"],
  OAUTH_STATE_INVALID: ["BAD_REQUEST", "Invalid or expired sign-in request, start again"],
  OAUTH_CODE_INVALID: ["BAD_REQUEST", "Invalid or expired sign-in code, start again"],
  OAUTH_CALLBACK_FAILED: ["UNAUTHORIZED", "The provider's answer could not be verified"],
  OAUTH_PROVIDER_UNAVAILABLE: ["SERVICE_UNAVAILABLE", "The sign-in provider cannot be reached, try again later"],
  OAUTH_EMAIL_MISSING: ["BAD_REQUEST", "The provider did not share an email address"],
  ACCOUNT_LINK_REQUIRED: ["CONFLICT", "An account with this email exists; sign in to it and link this provider"],
  IDENTITY_TAKEN: ["CONFLICT", "This provider account is linked to another user"],
  LAST_SIGN_IN_METHOD: ["CONFLICT", "This is the last way to sign in to the account; add another first"],
  FORBIDDEN: ["FORBIDDEN", "You do not have permission to do this"],
  ACCOUNT_DISABLED: ["FORBIDDEN", "This account is disabled"],
  LAST_ADMIN: ["CONFLICT", "This would leave no admin"],
  NOT_FOUND: ["NOT_FOUND", "Not found"],
  DB_UNAVAILABLE: ["SERVICE_UNAVAILABLE", "Database unavailable, try again later"],
  OVERLOADED: ["SERVICE_UNAVAILABLE", "Server is busy, try again later"],
  TOO_MANY_SUBSCRIPTIONS: ["TOO_MANY_REQUESTS", "Too many open event subscriptions"],
  WEBHOOK_URL_REFUSED: ["BAD_REQUEST", "Webhook URL refused: it must resolve to a public address"],
  WEBHOOK_DELIVERY_BUSY: ["CONFLICT", "This delivery is being attempted right now; redeliver it once the attempt is over"],
  INTERNAL: ["INTERNAL_SERVER_ERROR", "Internal server error"],
  // Transport-level refusals raised by tRPC itself, so that every error has an appCode.
  METHOD_NOT_SUPPORTED: ["METHOD_NOT_SUPPORTED", "Method not supported"],
  PAYLOAD_TOO_LARGE: ["PAYLOAD_TOO_LARGE", "Request body too large"],
  UNSUPPORTED_MEDIA_TYPE: ["UNSUPPORTED_MEDIA_TYPE", "Unsupported content type"],
} as const satisfies Record<string, readonly [TRPC_ERROR_CODE_KEY, string]>;

export type AppCode = keyof typeof CATALOGUE;

/** Every appCode, in catalogue order (for the generated reference). */
export const APP_CODES = Object.keys(CATALOGUE) as AppCode[];

/** A TRPCError that carries its stable `appCode` (and, for limits, a retry delay). */
export class AppError extends TRPCError {
  readonly appCode: AppCode;
  /** Seconds a client should wait before retrying (RATE_LIMITED, OVERLOADED). */
  readonly retryAfter: number | undefined;
  /** The known account a refusal concerns, for the security log only; never sent to the client. */
  readonly userId: string | undefined;

  constructor(appCode: AppCode, options: { message?: string; cause?: unknown; retryAfter?: number; userId?: string } = {}) {
    const [code, message] = CATALOGUE[appCode];
    super({ code, message: options.message ?? message, cause: options.cause });
    this.name = "AppError";
    this.appCode = appCode;
    this.retryAfter = options.retryAfter;
    this.userId = options.userId;
  }
}

/** Builds the error for an appCode; `throw appError("INVALID_CREDENTIALS")`. */
export function appError(appCode: AppCode, options?: ConstructorParameters<typeof AppError>[1]): AppError {
  return new AppError(appCode, options);
}

/** The appCode tRPC's own errors (not thrown by us) are reported under. */
const APP_CODE_OF_TRPC_CODE: Partial<Record<TRPC_ERROR_CODE_KEY, AppCode>> = {
  // Unparseable bodies, malformed batches: bad input, as far as the client is concerned.
  BAD_REQUEST: "VALIDATION_FAILED",
  PARSE_ERROR: "VALIDATION_FAILED",
  NOT_FOUND: "NOT_FOUND",
  FORBIDDEN: "FORBIDDEN",
  METHOD_NOT_SUPPORTED: "METHOD_NOT_SUPPORTED",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  TOO_MANY_REQUESTS: "RATE_LIMITED",
  UNAUTHORIZED: "TOKEN_INVALID",
};

/** The appCode of any error that reached the tRPC boundary. */
export function appCodeOf(error: TRPCError): AppCode {
  if (error instanceof AppError) return error.appCode;
  // Input validation failures; a ZodError under INTERNAL_SERVER_ERROR is a failed *output* check.
  if (error.code === "BAD_REQUEST" && error.cause instanceof z.ZodError) return "VALIDATION_FAILED";
  return APP_CODE_OF_TRPC_CODE[error.code] ?? "INTERNAL";
}

/**
 * A validation failure as messages per field (`fieldErrors`) and for the input
 * as a whole (`formErrors`). A value of the wrong type gets that one message:
 * zod also runs the length checks on an array sent for a string, whose
 * "must be at least 8 characters" would only mislead.
 */
export function flattenValidation(error: z.ZodError): { fieldErrors: Record<string, string[]>; formErrors: string[] } {
  // A Map, then own properties: a field named "__proto__" stays a field.
  const fields = new Map<string, string[]>();
  const formErrors: string[] = [];
  const wrongType = new Set(error.issues.filter((issue) => issue.code === "invalid_type").map((issue) => String(issue.path[0] ?? "")));
  for (const issue of error.issues) {
    const field = issue.path.length > 0 ? String(issue.path[0]) : "";
    if (wrongType.has(field) && issue.code !== "invalid_type") continue;
    if (field === "") formErrors.push(issue.message);
    else fields.set(field, [...(fields.get(field) ?? []), issue.message]);
  }
  return { fieldErrors: Object.fromEntries(fields), formErrors };
}

/** zod's own messages start "Invalid input: "; the summary says it once. */
const stripPrefix = (message: string) => message.replace(/^Invalid input: /, "");

/** A readable one-line summary of a validation failure, naming the fields. */
export function validationMessage(fieldErrors: Record<string, string[]>, formErrors: string[] = []): string {
  const parts = Object.entries(fieldErrors).map(([field, errors]) => `${field}: ${stripPrefix(errors[0]!)}`);
  if (formErrors.length > 0) parts.unshift(stripPrefix(formErrors[0]!));
  return parts.length > 0 ? `Invalid input: ${parts.join("; ")}` : messageOf("VALIDATION_FAILED");
}

/** The public message of an appCode. */
export function messageOf(appCode: AppCode): string {
  return CATALOGUE[appCode][1];
}

/** The tRPC code (and so the HTTP status) of an appCode. */
export function trpcCodeOf(appCode: AppCode): TRPC_ERROR_CODE_KEY {
  return CATALOGUE[appCode][0];
}
