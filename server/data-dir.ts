/**
 * Permissions of what Gatehouse writes under DATA_DIR (the embedded database,
 * development secrets, the mail outbox): readable by the server's own user
 * only. The outbox holds live reset links and the database password hashes;
 * a umask of 022 would otherwise leave them world-readable (OWASP ASVS 5.0
 * V13.3, "secret management": least privilege on files holding secrets).
 * Modes apply when a file or directory is created; existing ones are left as
 * the operator set them.
 */
import { chmodSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Directories under DATA_DIR: owner only. */
export const PRIVATE_DIR_MODE = 0o700;
/** Files under DATA_DIR: owner read and write only. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Makes everything under `dir` owner-only. PGlite writes its files through
 * its own file system layer with mode 0666, whatever the umask; this runs
 * once it has opened (and migrated) its database. Files it creates later sit
 * inside the 0700 directory, which no other user can enter.
 */
export function tightenTree(dir: string): void {
  chmodSync(dir, PRIVATE_DIR_MODE);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) tightenTree(path);
    else if (entry.isFile()) chmodSync(path, PRIVATE_FILE_MODE);
  }
}

/** Creates a directory (and its missing parents) owner-only. */
export function makePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
}
