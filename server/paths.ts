/**
 * Where the project's files are, whether this code runs from its TypeScript
 * source (`server/`, under tsx or vitest) or from the compiled build
 * (`dist/app/server/`, what `npm start` runs): the nearest folder above this
 * module that holds `package.json`.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The project's root folder. */
export const PROJECT_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** A path inside the project's root folder. */
export function projectPath(...segments: string[]): string {
  return join(PROJECT_ROOT, ...segments);
}
