/**
 * A pre-initialised, migrated embedded database to start from. Creating a
 * PGlite database runs initdb and then every migration: seconds of CPU and a
 * few hundred MB of memory on the first start. A template made once (by
 * `npm install`, scripts/pglite-template.ts) is a tarball of such a database
 * (PGlite's `dumpDataDir`, gzipped: about 5 MB). A new DATA_DIR is unpacked
 * from it, streaming, before PGlite opens it as any existing database
 * (`unpackTemplate`); an in-memory database is loaded from it by PGlite
 * (`readTemplate`, `loadDataDir`). PGlite's own loading of a DATA_DIR would
 * hold the archive and two unpacked copies at once: ~100 MB more at the
 * first start's peak (docs/performance.md, "Cold starts").
 *
 * The file is named after a hash of the PGlite version and of every migration,
 * so a template made before a migration was added (or edited) is never used:
 * the database is then created the slow way, and migrated as always.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { createGunzip } from "node:zlib";
import { makePrivateDir } from "../data-dir.ts";
import { projectPath } from "../paths.ts";
import { untar } from "./untar.ts";

const MIGRATIONS = projectPath("prisma", "migrations");

function pgliteVersion(): string {
  return (JSON.parse(readFileSync(projectPath("node_modules", "@electric-sql", "pglite", "package.json"), "utf8")) as { version: string }).version;
}

/** The template file for the current migrations and PGlite version. */
export function templateFile(): string {
  const hash = createHash("sha256").update(`pglite ${pgliteVersion()}\n`);
  for (const name of readdirSync(MIGRATIONS).sort()) {
    const sql = join(MIGRATIONS, name, "migration.sql");
    if (!statSync(join(MIGRATIONS, name)).isDirectory()) continue;
    hash.update(`${name}\n`).update(readFileSync(sql));
  }
  return projectPath("node_modules", ".cache", "gatehouse", `pglite-${hash.digest("hex").slice(0, 16)}.tar.gz`);
}

/** The template's bytes, or undefined when none was made for the current migrations. */
export function readTemplate(): Blob | undefined {
  try {
    return new Blob([readFileSync(templateFile())]);
  } catch {
    return undefined;
  }
}

/**
 * Unpacks the template into `dir` (a new embedded database's directory, without
 * PG_VERSION); false, with nothing written, when none was made for the current
 * migrations. Throws, touching nothing, when `dir` is not empty.
 *
 * Atomic, because a start killed mid-unpack (Ctrl-C, OOM, SIGKILL) would leave
 * a half-written database that the next start opens: the archive goes into a
 * sibling `<dir>.partial-<pid>`, renamed into place only once complete. The
 * next start removes any partial folder first (one process owns a DATA_DIR,
 * and a container's pid is often the same each run). rename(2) replaces an
 * empty `dir`; a non-empty one is not ours to delete. (This covers a killed
 * process, not a power cut: the unpacked files are not fsynced.)
 */
export async function unpackTemplate(dir: string): Promise<boolean> {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new Error(`the embedded database folder ${dir} is not empty but holds no database (no PG_VERSION), so it was left as it is: move it aside (or set DATA_DIR elsewhere) and start again to create a new database`);
  }
  const file = templateFile();
  if (!existsSync(file)) return false;
  const prefix = `${basename(dir)}.partial-`;
  makePrivateDir(dirname(dir));
  for (const old of readdirSync(dirname(dir))) if (old.startsWith(prefix)) rmSync(join(dirname(dir), old), { recursive: true, force: true });
  const partial = `${dir}.partial-${process.pid}`;
  // 1 MB pieces instead of zlib's 16 kB: a fifth of the time (~40 ms instead of ~200 ms), a megabyte of memory.
  await untar(createReadStream(file).pipe(createGunzip({ chunkSize: 1 << 20 })), partial);
  renameSync(partial, dir);
  return true;
}

/** Writes a template (atomically: a half-written file is never read), and removes older ones. */
export function writeTemplate(bytes: Uint8Array): string {
  const file = templateFile();
  mkdirSync(dirname(file), { recursive: true });
  for (const old of readdirSync(dirname(file))) if (old.startsWith("pglite-") && join(dirname(file), old) !== file) rmSync(join(dirname(file), old), { force: true });
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, bytes);
  renameSync(partial, file);
  return file;
}
