/**
 * `npm run check` (with knip): fails when modules import each other in a
 * circle, as `madge --circular` would, type-only imports included, so the
 * import direction (env → db → domain → context → trpc → routers → http →
 * main) holds for types too. madge itself cannot read this repository: it
 * parses TypeScript through the `typescript` package's JavaScript API, which
 * TypeScript 7 no longer ships.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { PROJECT_ROOT } from "../server/paths.ts";

const ROOTS = ["server", "routers", "scripts", "bench", "tests", "verify", "examples", "packages/client/src", "packages/client/scripts"];
const SKIP = new Set(["node_modules", "generated", "dist"]);
const SOURCE = /\.(ts|tsx|mts|mjs)$/;
/** Static (type-only too) and dynamic imports and re-exports of a relative path. */
const IMPORT = /(?:^|[;\s])(?:import|export)\s+(?:[^"';]*?\sfrom\s+)?["'](\.\.?\/[^"']+)["']|import\(\s*["'](\.\.?\/[^"']+)["']\s*\)/g;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return SOURCE.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Each module's run-time imports of other modules of the repository. */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  return new Map(
    files.map((file) => {
      const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, "");
      const targets = [...text.matchAll(IMPORT)].map((m) => resolve(dirname(file), m[1] ?? m[2]!)).filter((target) => known.has(target));
      return [file, [...new Set(targets)]];
    }),
  );
}

/** Strongly connected components of more than one module (or a module importing itself): Tarjan's algorithm. */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || graph.get(node)!.includes(node)) found.push(component);
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

const files = ROOTS.flatMap((root) => {
  const dir = join(PROJECT_ROOT, root);
  try {
    return sources(dir);
  } catch {
    return [];
  }
});
const found = cycles(importGraph(files));
for (const component of found) console.error(`import cycle: ${component.map((file) => relative(PROJECT_ROOT, file)).sort().join(" ↔ ")}`);
console.log(found.length === 0 ? `no import cycles in ${files.length} modules` : `${found.length} import cycle(s)`);
process.exitCode = found.length === 0 ? 0 : 1;
