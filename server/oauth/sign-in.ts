/**
 * `auth.exchangeOAuthCode`: turns a callback's one-time code into a sign-in,
 * with linking that is safe by construction:
 *
 * - an identity already linked signs in to its account;
 * - an unknown identity whose email matches an account joins that account
 *   only when the provider asserts the email verified AND the account's email
 *   is verified too. Otherwise ACCOUNT_LINK_REQUIRED: a provider that lets
 *   anyone claim any address (or an account someone pre-registered with the
 *   victim's address and never verified) must not hand over an account
 *   (account pre-hijacking, Sudhodanan and Paverd 2022; the "nOAuth" class);
 * - an unknown identity with a new email creates an account without a
 *   password, verified if the provider says so.
 *
 * Then it ends like every first-factor sign-in (`completeSignIn`): a second
 * factor still applies.
 */
import { eventData } from "../audit/events.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { appError } from "../errors.ts";
import { completeSignIn, type LoginResult } from "../identity/accounts.ts";
import { publicUserSelect, type PublicUser } from "../identity/user-view.ts";
import { lockUser } from "../tokens/one-time-tokens.ts";
import { claimOAuthCode } from "./codes.ts";
import { isUniqueViolation } from "../db/prisma-errors.ts";
import { createIdentity } from "./identities.ts";
import type { ProviderProfile } from "./provider.ts";

export async function exchangeOAuthCode(deps: AuthDeps, code: string, meta: RequestMeta): Promise<LoginResult> {
  const profile = await claimOAuthCode(deps.prisma, code, deps.now());
  if (!profile) throw appError("OAUTH_CODE_INVALID");
  let user: PublicUser;
  try {
    user = await accountFor(deps, profile, meta);
  } catch (error) {
    // Two first sign-ins racing for one new email or identity: the loser finds the winner's rows.
    if (!isUniqueViolation(error)) throw error;
    user = await accountFor(deps, profile, meta);
  }
  return completeSignIn(deps, user, meta);
}

/** The account a provider identity signs in to, linking or creating it as the rules above allow. */
async function accountFor(deps: AuthDeps, profile: ProviderProfile, meta: RequestMeta): Promise<PublicUser> {
  const now = deps.now();
  const identity = await deps.prisma.oAuthIdentity.findUnique({
    where: { provider_subject: { provider: profile.provider, subject: profile.subject } },
    select: { id: true, user: { select: publicUserSelect } },
  });
  if (identity) {
    await deps.prisma.oAuthIdentity.update({
      where: { id: identity.id },
      data: { lastUsedAt: now, email: profile.email, emailVerified: profile.emailVerified },
    });
    return identity.user;
  }
  if (profile.email === null) throw appError("OAUTH_EMAIL_MISSING");
  const email = profile.email;
  const existing = await deps.prisma.user.findUnique({ where: { email }, select: publicUserSelect });
  if (existing) {
    if (!profile.emailVerified || !existing.emailVerified) throw appError("ACCOUNT_LINK_REQUIRED", { userId: existing.id });
    await deps.prisma.$transaction(async (tx) => {
      if (!(await lockUser(tx, existing.id))) throw appError("OAUTH_CODE_INVALID");
      await createIdentity(tx, existing.id, profile, meta, now);
    });
    return existing;
  }
  return deps.prisma.user.create({
    data: {
      email,
      name: profile.name ?? email.slice(0, email.indexOf("@")).slice(0, 100),
      emailVerified: profile.emailVerified,
      createdAt: now,
      identities: {
        create: { provider: profile.provider, subject: profile.subject, email, emailVerified: profile.emailVerified, createdAt: now, lastUsedAt: now },
      },
      events: { create: [eventData("register", meta, now), eventData("identity_linked", meta, now)] },
    },
    select: publicUserSelect,
  });
}
