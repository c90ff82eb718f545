/**
 * What `npm install` (postinstall) and `npm start` need done first, each step
 * skipped when its output is up to date, so that a no-op install and a
 * repeated start cost milliseconds:
 *
 * 1. `prisma generate`, when prisma/schema.prisma changed since the last run
 *    (its SHA-256 is kept beside the generated client);
 * 2. `npm run build` (tsc into dist/app), when a file it compiles is newer
 *    than the last build (dist/app/.build-stamp);
 * 3. with `--template` (postinstall only): the embedded database's migrated
 *    template (scripts/pglite-template.ts), when none exists for the current
 *    migrations.
 *
 * Plain JavaScript on purpose: it runs before anything is compiled, and
 * starting tsx would cost more than every check here together.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const at = (...parts) => join(ROOT, ...parts);
const run = (command, args) => execFileSync(command, args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });

/** The newest modification time (ms) of a file, or of any file under a folder. */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === "generated" || entry === "node_modules") continue;
    latest = Math.max(latest, newest(join(path, entry)));
  }
  return latest;
}

function generateClient() {
  const hash = createHash("sha256").update(readFileSync(at("prisma", "schema.prisma"))).digest("hex");
  const stamp = at("server", "generated", ".schema-sha256");
  if (existsSync(at("server", "generated", "prisma", "client.ts")) && existsSync(stamp) && readFileSync(stamp, "utf8") === hash) return;
  run(process.execPath, [at("node_modules", "prisma", "build", "index.js"), "generate"]);
  writeFileSync(stamp, hash);
}

/** What tsconfig.build.json compiles (and what decides how). */
const BUILD_INPUTS = ["server", "routers", "scripts", "verify", "tsconfig.json", "tsconfig.build.json", at("server", "generated", ".schema-sha256")];

function build() {
  const stamp = at("dist", "app", ".build-stamp");
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  if (built > 0 && BUILD_INPUTS.every((input) => newest(input.startsWith("/") ? input : at(input)) < built)) return;
  // package.json's build script writes the stamp.
  run("npm", ["run", "build", "--silent"]);
}

generateClient();
build();
if (process.argv.includes("--template")) run(process.execPath, [at("dist", "app", "scripts", "pglite-template.js")]);
