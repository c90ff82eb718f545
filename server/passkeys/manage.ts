/** Listing and removing a user's passkeys (`passkey.list`, `passkey.remove`). */
import { eventData } from "../audit/events.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { appError } from "../errors.ts";
import type { PublicUser } from "../identity/user-view.ts";
import { verifyCurrentPassword, type PasswordCheckDeps } from "../passwords/current-password.ts";
import { isUuid } from "../tokens/opaque-token.ts";

/** A passkey as the API shows it: never the key or the credential id. */
export interface PasskeyView {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export function passkeyView(row: PasskeyView): PasskeyView {
  return { id: row.id, name: row.name, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt };
}

/** The user's passkeys, newest first. */
export async function listPasskeys(deps: Pick<AuthDeps, "prisma">, userId: string): Promise<PasskeyView[]> {
  const rows = await deps.prisma.passkey.findMany({
    where: { userId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { id: true, name: true, createdAt: true, lastUsedAt: true },
  });
  return rows.map(passkeyView);
}

/** Removes one of the user's passkeys after checking the password; NOT_FOUND when it is not theirs. */
export async function removePasskey(
  deps: PasswordCheckDeps & Pick<AuthDeps, "now">,
  user: PublicUser,
  input: { id: string; password: string },
  meta: RequestMeta,
): Promise<void> {
  await verifyCurrentPassword(deps, user, input.password);
  if (!isUuid(input.id)) throw appError("NOT_FOUND", { message: "Passkey not found" });
  const now = deps.now();
  const removed = await deps.prisma.$transaction(async (tx) => {
    const { count } = await tx.passkey.deleteMany({ where: { id: input.id, userId: user.id } });
    if (count > 0) await tx.authEvent.create({ data: { userId: user.id, ...eventData("passkey_removed", meta, now) } });
    return count > 0;
  });
  if (!removed) throw appError("NOT_FOUND", { message: "Passkey not found" });
}
