/**
 * Provider identities linked to accounts: explicit linking by a signed-in
 * user, the list (`auth.identities`) and unlinking (`auth.unlinkIdentity`).
 * Every link and unlink is an AuthEvent (`identity_linked`,
 * `identity_unlinked`), written in the transaction that makes the change.
 */
import { recordEvent } from "../audit/events.ts";
import type { PrismaClient } from "../db/database.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { appError } from "../errors.ts";
import { isUuid } from "../tokens/opaque-token.ts";
import { lockUser, type TransactionClient } from "../tokens/one-time-tokens.ts";
import type { ProviderProfile } from "./provider.ts";
import { isUniqueViolation } from "../db/prisma-errors.ts";

/** A linked identity as `auth.identities` lists it. */
export interface IdentityView {
  id: string;
  provider: string;
  email: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

const identityView = { id: true, provider: true, email: true, createdAt: true, lastUsedAt: true } as const;

/** Writes a new link and its event inside a transaction. */
export async function createIdentity(tx: TransactionClient, userId: string, profile: ProviderProfile, meta: RequestMeta, now: Date): Promise<void> {
  await tx.oAuthIdentity.create({
    data: {
      userId,
      provider: profile.provider,
      subject: profile.subject,
      email: profile.email,
      emailVerified: profile.emailVerified,
      createdAt: now,
      lastUsedAt: now,
    },
  });
  await recordEvent(tx, userId, "identity_linked", meta, now);
}

/**
 * Links a provider identity to the user who asked for it (`auth.linkOAuth`)
 * while that session is still live. Linking an identity the user already has
 * is a no-op; one linked to another account is IDENTITY_TAKEN.
 */
export async function linkToUser(
  deps: Pick<AuthDeps, "prisma" | "now">,
  owner: { userId: string; sessionId: string },
  profile: ProviderProfile,
  meta: RequestMeta,
): Promise<void> {
  const now = deps.now();
  const session = await deps.prisma.session.findFirst({
    where: { id: owner.sessionId, userId: owner.userId, revokedAt: null, expiresAt: { gt: now } },
    select: { id: true },
  });
  if (!session) throw appError("SESSION_REVOKED");
  const existing = await deps.prisma.oAuthIdentity.findUnique({
    where: { provider_subject: { provider: profile.provider, subject: profile.subject } },
    select: { userId: true },
  });
  if (existing) {
    if (existing.userId !== owner.userId) throw appError("IDENTITY_TAKEN");
    return;
  }
  try {
    await deps.prisma.$transaction(async (tx) => {
      if (!(await lockUser(tx, owner.userId))) throw appError("SESSION_REVOKED");
      await createIdentity(tx, owner.userId, profile, meta, now);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw appError("IDENTITY_TAKEN");
    throw error;
  }
}

/** The user's linked identities, oldest first. */
export function listIdentities(prisma: Pick<PrismaClient, "oAuthIdentity">, userId: string): Promise<IdentityView[]> {
  return prisma.oAuthIdentity.findMany({ where: { userId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], select: identityView });
}

/**
 * Removes one of the user's identities, unless it is the last way in:
 * LAST_SIGN_IN_METHOD when the account has no password, no passkey and no
 * other identity. (The mailbox does not count: magic links and resets
 * recover an account, they are not what keeps it.) The check and the delete
 * run under the user's row lock, so two unlinks racing cannot remove the
 * last two methods between them.
 */
export async function unlinkIdentity(deps: Pick<AuthDeps, "prisma" | "now">, userId: string, id: string, meta: RequestMeta): Promise<void> {
  if (!isUuid(id)) throw appError("NOT_FOUND", { message: "Identity not found" });
  const now = deps.now();
  await deps.prisma.$transaction(async (tx) => {
    if (!(await lockUser(tx, userId))) throw appError("SESSION_REVOKED");
    const identity = await tx.oAuthIdentity.findFirst({ where: { id, userId }, select: { id: true } });
    if (!identity) throw appError("NOT_FOUND", { message: "Identity not found" });
    const [user, others, passkeys] = await Promise.all([
      tx.user.findUniqueOrThrow({ where: { id: userId }, select: { passwordHash: true } }),
      tx.oAuthIdentity.count({ where: { userId, id: { not: id } } }),
      tx.passkey.count({ where: { userId } }),
    ]);
    if (user.passwordHash === null && others === 0 && passkeys === 0) throw appError("LAST_SIGN_IN_METHOD");
    await tx.oAuthIdentity.delete({ where: { id } });
    await recordEvent(tx, userId, "identity_unlinked", meta, now);
  });
}
