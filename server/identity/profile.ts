/** `user.updateProfile` (docs/API.md). */
import { appError } from "../errors.ts";
import type { AuthDeps } from "../deps.ts";
import { publicUserSelect, type PublicUser } from "./user-view.ts";
import { isRecordNotFound } from "../db/prisma-errors.ts";

/** Sets the user's display name (already trimmed and checked by the input schema). */
export async function updateProfile(deps: Pick<AuthDeps, "prisma">, userId: string, input: { name: string }): Promise<PublicUser> {
  try {
    return await deps.prisma.user.update({ where: { id: userId }, data: { name: input.name }, select: publicUserSelect });
  } catch (error) {
    // Deleted between the session check and this write: the same answer its next request gets.
    if (isRecordNotFound(error)) throw appError("SESSION_REVOKED");
    throw error;
  }
}
