/**
 * Keeps stored hashes at BCRYPT_COST: a login that proved the password and
 * found its hash at another cost stores a new hash, off the response path
 * (OWASP Password Storage Cheat Sheet, "Upgrading the work factor").
 */
import type { BackgroundTasks } from "../background.ts";
import type { AuthDeps } from "../deps.ts";
import { AppError } from "../errors.ts";

/** Re-hashes `password` at the configured cost when `storedHash` has another, in the background. */
export function rehashIfOutdated(
  deps: Pick<AuthDeps, "prisma" | "passwords"> & { background: BackgroundTasks },
  userId: string,
  storedHash: string,
  password: string,
): void {
  if (!deps.passwords.needsRehash(storedHash)) return;
  deps.background.run("password rehash", null, async () => {
    let passwordHash: string;
    try {
      passwordHash = await deps.passwords.hash(password);
    } catch (error) {
      // Hashing is saturated: the next login tries again.
      if (error instanceof AppError && error.appCode === "OVERLOADED") return;
      throw error;
    }
    // Conditional on the hash we verified: a password changed meanwhile stays changed.
    await deps.prisma.user.updateMany({ where: { id: userId, passwordHash: storedHash }, data: { passwordHash } });
  });
}
