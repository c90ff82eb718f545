/**
 * Inputs and outputs of the auth procedures (docs/API.md). Unknown keys
 * are stripped by `z.object`, so `role`, `id` or `__proto__` are never seen.
 */
import * as z from "zod";
import { PERMISSIONS } from "../../server/admin/permissions.ts";
import type { ActivityEvent } from "../../server/audit/activity.ts";
import { AUTH_EVENT_TYPES } from "../../server/audit/events.ts";
import type { PublicUser } from "../../server/identity/user-view.ts";
import type { AuthResult, SessionView } from "../../server/sessions/sessions.ts";

/** Trimmed, lower-cased, valid, at most 254 characters (RFC 5321 path limit). */
export const Email = z
  .string()
  .trim()
  // Checked before lower-casing: a few non-ASCII letters lower-case to ASCII
  // (the Kelvin sign K, U+212A, becomes "k"), which would let a look-alike
  // address reach an existing ASCII account. z.email() refuses non-ASCII anyway.
  .regex(/^[\x20-\x7e]*$/, "Invalid email address")
  .toLowerCase()
  .max(254, "Email must be at most 254 characters")
  .pipe(z.email("Invalid email address"));

/** Taken exactly as sent: never trimmed or case-folded. */
const Password = z
  .string()
  .min(8, "Password must be at least 8 characters")
  .max(128, "Password must be at most 128 characters");

export const Name = z
  .string()
  .trim()
  .min(1, "Name is required")
  .max(100, "Name must be at most 100 characters")
  // Control characters, and invisible format characters (Unicode Cf: bidi
  // overrides such as U+202E, zero-width spaces and joiners), which can make a
  // name read differently from what it is in admin screens and mail.
  .refine((name) => !/[\p{Cc}\p{Cf}]/u.test(name), "Name must not contain control or invisible formatting characters");

/** Opaque tokens are short; anything longer is refused before a lookup. */
const OpaqueToken = z.string().min(1, "Token is required").max(512, "Token is too long");

export const RegisterInput = z.object({ email: Email, password: Password, name: Name });
export const LoginInput = z.object({
  email: Email,
  // Login checks only the bounds that keep hashing cheap; policy is for new passwords.
  password: z.string().min(1, "Password is required").max(128, "Password must be at most 128 characters"),
});
export const RefreshInput = z.object({ refreshToken: OpaqueToken });
export const RevokeSessionInput = z.object({ sessionId: z.string().min(1, "Session id is required").max(100) });
export const ChangePasswordInput = z.object({
  currentPassword: z.string().min(1, "Current password is required").max(128),
  newPassword: Password,
});
export const ResetPasswordInput = z.object({ token: OpaqueToken, newPassword: Password });
export const VerifyEmailInput = z.object({ token: OpaqueToken });
export const DeleteAccountInput = z.object({ password: z.string().min(1, "Password is required").max(128) });
export const EmailInput = z.object({ email: Email });
export const TokenInput = z.object({ token: OpaqueToken });
export const VerifyEmailCodeInput = z.object({
  email: Email,
  code: z.string().trim().regex(/^\d{6}$/, "Code must be 6 digits"),
});
export const SetPasswordInput = z.object({ newPassword: Password });
export const OAuthCodeInput = z.object({ code: OpaqueToken });
const ProviderName = z.string().trim().toLowerCase().regex(/^[a-z][a-z0-9]{0,31}$/, "Unknown provider");
export const LinkOAuthInput = z.object({
  provider: ProviderName,
  redirect: z.string().max(2000, "Redirect must be at most 2000 characters"),
});
export const LinkOAuthOutput = z.object({ url: z.string() });
export const UnlinkIdentityInput = z.object({ id: z.string().min(1, "Identity id is required").max(100) });
export const IdentityOutput = z.object({
  id: z.string(),
  provider: z.string(),
  email: z.string().nullable(),
  createdAt: z.date(),
  lastUsedAt: z.date().nullable(),
});

export const UserOutput = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  emailVerified: z.boolean(),
  createdAt: z.date(),
  twoFactorEnabled: z.boolean(),
  roles: z.array(z.string()),
}) satisfies z.ZodType<PublicUser>;

/** `auth.me`: the user, what its roles let it do, and the admin acting, in an impersonation session. */
export const MeOutput = UserOutput.extend({
  permissions: z.array(z.enum(PERMISSIONS)),
  impersonatedBy: z.object({ id: z.string(), email: z.string() }).nullable(),
});

export const AuthResultOutput = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal("Bearer"),
  expiresIn: z.number().int(),
  user: UserOutput,
}) satisfies z.ZodType<AuthResult>;

/** The second step a password sign-in needs when the user has a second factor. */
const MfaChallengeOutput = z.object({
  mfaRequired: z.literal(true),
  mfaToken: z.string(),
  methods: z.array(z.enum(["totp", "recovery_code", "passkey"])),
  expiresIn: z.number().int(),
});

/** `auth.login`: a session, or a challenge; `mfaRequired` tells which. */
export const LoginOutput = z.discriminatedUnion("mfaRequired", [
  AuthResultOutput.extend({ mfaRequired: z.literal(false) }),
  MfaChallengeOutput,
]);

/** A TOTP code (6 digits) or a recovery code (`xxxxx-xxxxx`, hyphen optional, any case). */
export const SecondFactorCode = z
  .string()
  .trim()
  .regex(/^(\d{6}|[A-Za-z2-7]{5}-?[A-Za-z2-7]{5})$/, "Code must be 6 digits or a recovery code like abcde-fghij");

export const VerifyMfaInput = z.object({ mfaToken: OpaqueToken, code: SecondFactorCode });

export const SessionOutput = z.object({
  id: z.string(),
  createdAt: z.date(),
  lastUsedAt: z.date(),
  userAgent: z.string().nullable(),
  ip: z.string().nullable(),
  current: z.boolean(),
}) satisfies z.ZodType<SessionView>;

export const AuthEventOutput = z.object({
  type: z.enum(AUTH_EVENT_TYPES),
  at: z.date(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
}) satisfies z.ZodType<ActivityEvent>;

export const SuccessOutput = z.object({ success: z.literal(true) });
export const RevokedOutput = z.object({ revoked: z.number().int() });

/** `auth.events`: nothing, or the id of the last event received (set by the client on reconnection). */
export const EventsInput = z.object({ lastEventId: z.string().max(32).optional() }).optional();
