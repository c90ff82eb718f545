/** Registration and login (docs/API.md). */
import type { BackgroundTasks } from "../background.ts";
import { appError } from "../errors.ts";
import type { Limits } from "../limits/limits.ts";
import { sendVerificationMail, type MailDeps } from "../mail/account-mail.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { eventData, recordEvent } from "../audit/events.ts";
import { oneTimeTokenData } from "../tokens/one-time-tokens.ts";
import { assertStrongPassword } from "../passwords/policy.ts";
import { rehashIfOutdated } from "../passwords/rehash.ts";
import { authResult, newSessionData, openSession, type AuthResult } from "../sessions/sessions.ts";
import { issueMfaChallenge, type MfaChallenge } from "../mfa/challenge.ts";
import { publicUserSelect, type PublicUser } from "./user-view.ts";
import { assertNotDisabled } from "./account-status.ts";
import { isUniqueViolation } from "../db/prisma-errors.ts";

export interface RegisterInput {
  email: string;
  password: string;
  name: string;
}

/**
 * Creates an account with its first session. Concurrent registrations of one
 * email are settled by the unique index: exactly one wins, the rest get EMAIL_TAKEN.
 * The verification token is created with the account; its mail goes out in the
 * background, so a mail failure neither delays nor undoes the registration.
 */
export async function register(
  deps: AuthDeps & MailDeps,
  input: RegisterInput,
  meta: RequestMeta,
  requestId: string | null = null,
): Promise<AuthResult> {
  assertStrongPassword(input.password, input.email);
  // Registration reveals whether an email exists by design (EMAIL_TAKEN); the
  // early check only saves a bcrypt hash on an obvious duplicate.
  const existing = await deps.prisma.user.findUnique({ where: { email: input.email }, select: { id: true } });
  if (existing) throw appError("EMAIL_TAKEN");
  const passwordHash = await deps.passwords.hash(input.password);
  const now = deps.now();
  const { refreshToken, data } = newSessionData(deps, meta, now);
  const verification = oneTimeTokenData("email_verification", now);
  try {
    const user = await deps.prisma.user.create({
      data: {
        email: input.email,
        name: input.name,
        passwordHash,
        createdAt: now,
        // Registration signs the new account in: its first sign-in.
        lastLoginAt: now,
        sessions: { create: data },
        events: { create: eventData("register", meta, now) },
        tokens: { create: verification.data },
      },
      select: { ...publicUserSelect, sessions: { select: { id: true } } },
    });
    const { sessions, ...publicUser } = user;
    sendVerificationMail(deps, publicUser, verification.token, { ip: meta.ip, requestId });
    return authResult(deps, publicUser, sessions[0]!.id, refreshToken, now);
  } catch (error) {
    if (isUniqueViolation(error)) throw appError("EMAIL_TAKEN");
    throw error;
  }
}

/**
 * What `auth.login` answers: a session (`mfaRequired: false`), or, for a user
 * with a second factor, the challenge `auth.verifyMfa` completes.
 */
export type LoginResult = (AuthResult & { mfaRequired: false }) | MfaChallenge;

/**
 * Checks the credentials and opens a session, or a second-factor challenge
 * (no session) when the user has turned TOTP on. Unknown email and wrong password
 * give the same error after the same bcrypt work (OWASP Authentication Cheat
 * Sheet, "Authentication Responses").
 */
export async function login(
  deps: AuthDeps & { limits: Pick<Limits, "loginLockout">; background: BackgroundTasks },
  input: { email: string; password: string },
  meta: RequestMeta,
): Promise<LoginResult> {
  const user = await deps.prisma.user.findUnique({
    where: { email: input.email },
    select: { ...publicUserSelect, passwordHash: true, disabledAt: true },
  });
  // Unknown emails go through the same lockout and the same bcrypt work, so
  // that neither the answer nor the lockout reveals whether an account exists.
  // A locked email is refused even with the right password.
  const right = await deps.limits.loginLockout.guard(
    input.email,
    // An account without a password (OAuth, magic link) answers like an unknown email.
    () => (user?.passwordHash ? deps.passwords.verify(input.password, user.passwordHash) : deps.passwords.verifyDummy(input.password)),
    // With a second factor the sign-in is complete only after the code.
    { ip: meta.ip, forgetOnSuccess: !user?.twoFactorEnabled },
  );
  if (!user) throw appError("INVALID_CREDENTIALS");
  const { passwordHash, disabledAt, ...publicUser } = user;
  if (!right) {
    // Written off the response path: an unknown email has no row to write, and
    // a commit the other path lacks would tell the two apart by time.
    const at = deps.now();
    deps.background.run("login_failed event", null, () => recordEvent(deps.prisma, user.id, "login_failed", meta, at));
    throw appError("INVALID_CREDENTIALS", { userId: user.id });
  }
  // Only now, after the right password: a wrong one must not learn the account is disabled.
  assertNotDisabled({ id: user.id, disabledAt });
  if (passwordHash !== null) rehashIfOutdated(deps, user.id, passwordHash, input.password);
  return completeSignIn(deps, publicUser, meta);
}

/**
 * The end of every first-factor sign-in (password, magic link, email code,
 * OAuth): a session, or for a user with a second factor the challenge
 * `auth.verifyMfa` completes, with no session until then.
 */
export async function completeSignIn(deps: AuthDeps, user: PublicUser, meta: RequestMeta): Promise<LoginResult> {
  if (user.twoFactorEnabled) return issueMfaChallenge(deps, user.id, meta);
  return { ...(await openSession(deps, user, "login", meta)), mfaRequired: false };
}
