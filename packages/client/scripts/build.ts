/**
 * Builds the installable client (`npm run build -w @gatehouse/client`, and
 * `npm pack` through `prepack`):
 *
 * - dist/index.js: the client's modules in one ES module for bundlers;
 *   `@trpc/client`, `@trpc/server` (peer dependencies) and `superjson` stay
 *   imports;
 * - dist/index.d.ts: one self-contained declaration file. The compiler's
 *   declaration emit writes the server's types out in full (scripts/shape.ts);
 *   they replace src/server-types.ts, the only module that reads server code,
 *   and `AppRouter` is rebuilt from them on `@trpc/server`'s public types. The
 *   client's own declarations are then joined into the same file.
 *
 * - dist/trpc.js and dist/trpc.d.ts (`@gatehouse/client/trpc`): the client's
 *   links for a tRPC client of one's own (TanStack Query); its declarations
 *   import `@trpc/client` and the main entry point, nothing else.
 *
 * The build fails if dist/index.d.ts would import anything at all, or
 * dist/trpc.d.ts anything else (`checkDeclarationImports`).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const PACKAGE = fileURLToPath(new URL("../", import.meta.url));
const ROOT = resolve(PACKAGE, "../..");
const OUT = join(PACKAGE, "dist");
const EMIT = join(PACKAGE, ".build");
/** The runtime imports of dist/index.js that a frontend installs itself (peer dependencies). */
const PEERS = ["@trpc/client", "@trpc/server"];

/** The specifiers a declaration file imports (static imports, exports from, `import("...")` types, references). */
export function declarationImports(text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(/\b(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) found.add(match[1]!);
  for (const match of text.matchAll(/\/\/\/\s*<reference\s+(?:types|path|lib)\s*=\s*["']([^"']+)["']/g)) found.add(`reference:${match[1]}`);
  return [...found];
}

/** What each declaration file of dist/ may import: index.d.ts nothing, trpc.d.ts the peer dependency and index.d.ts. */
export const ALLOWED_IMPORTS: Record<string, readonly string[]> = { "index.d.ts": [], "trpc.d.ts": ["@trpc/client", "./index.js"] };

/** Throws if a declaration file of dist/ imports more than `ALLOWED_IMPORTS` lets it. */
export function checkDeclarationImports(file: string, text: string): void {
  const outside = declarationImports(text).filter((specifier) => !ALLOWED_IMPORTS[file]!.includes(specifier));
  if (outside.length > 0) throw new Error(`dist/${file} imports from outside the package: ${outside.join(", ")}`);
}

/** `export declare const <name>: <type>;` of a declaration file, as name → type text. */
function declaredConstants(text: string): Map<string, string> {
  const constants = new Map<string, string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const head = /^export declare const (\w+): (.*)$/.exec(lines[i]!);
    if (!head) continue;
    const body = [head[2]!];
    // A multi-line type ends on the first line back at column 0.
    while (!body.at(-1)!.endsWith(";") || (body.length > 1 && /^\s/.test(body.at(-1)!))) body.push(lines[++i]!);
    constants.set(head[1]!, body.join("\n").slice(0, -1));
  }
  return constants;
}

/**
 * The generated stand-in for src/server-types.ts: the server's types with no
 * import at all. `AppRouter` is spelt out member by member in the shape of
 * tRPC v11's router and procedure types (`_def.record`, `_def.$types`, ...),
 * so `createTRPCClient<AppRouter>`, `inferRouterOutputs<AppRouter>` and
 * `@trpc/tanstack-react-query` accept it, while a frontend that only uses
 * this package never loads tRPC's declarations.
 */
function serverTypes(shape: string): string {
  const constants = declaredConstants(shape);
  const typeOf = (name: string) => {
    const text = constants.get(name);
    if (text === undefined) throw new Error(`scripts/shape.ts declares no ${name}`);
    return text.replaceAll(/import\("@trpc\/server"\)\.TRPC_ERROR_CODE_(KEY|NUMBER)/g, (_, kind: string) => (kind === "KEY" ? "string" : "number"));
  };
  const [router, errorShape, meta, liveEvent, appCode, permission, role] = ["router", "errorShape", "meta", "liveEvent", "appCode", "permission", "role"].map(typeOf);
  return `/** Every procedure of the server: its kind, its input and its output. */
type GatehouseProcedures = ${router};
/** What the server sends in an error (\`error.data.appCode\` and friends). */
type GatehouseErrorShape = ${errorShape};
/** What a procedure may declare with \`.meta(...)\`. */
type GatehouseMeta = ${meta};
/** One procedure, in the shape of tRPC's \`Procedure\`. */
interface GatehouseProcedure<TType extends "query" | "mutation" | "subscription", TInput, TOutput> {
    _def: {
        $types: { input: TInput; output: TOutput; errorShape: GatehouseErrorShape };
        procedure: true;
        type: TType;
        meta: unknown;
        experimental_caller: boolean;
        inputs: any[];
    };
    meta: GatehouseMeta;
    (opts: any): Promise<TOutput>;
}
type GatehouseRecord<S> = {
    [K in keyof S]: S[K] extends { kind: infer T extends "query" | "mutation"; input: infer I; output: infer O } ? GatehouseProcedure<T, I, O> : S[K] extends { kind: "subscription"; input: infer I; yields: infer Y } ? GatehouseProcedure<"subscription", I, AsyncIterable<Y>> : GatehouseRecord<S[K]>;
};
/** The server's router, as a type, in the shape of tRPC v11's \`BuiltRouter\`: \`createTRPCClient<AppRouter>(...)\` is typed end to end. */
export type AppRouter = {
    _def: {
        _config: {
            $types: { ctx: object; meta: GatehouseMeta; errorShape: GatehouseErrorShape; transformer: true };
            transformer: any;
            errorFormatter: any;
            allowOutsideOfServer: boolean;
            isServer: boolean;
            isDev: boolean;
            pathSeparator: any;
        };
        router: true;
        procedure?: never;
        procedures: GatehouseRecord<GatehouseProcedures>;
        record: GatehouseRecord<GatehouseProcedures>;
        lazy: Record<string, any>;
    };
    createCaller: any;
} & GatehouseRecord<GatehouseProcedures>;
/** What \`auth.events\` streams. */
export type LiveEvent = ${liveEvent};
/** Every stable error code the server answers with (docs/API.md, "Error catalogue"). */
export type AppCode = ${appCode};
/** Every permission of the server's catalogue. */
export type Permission = ${permission};
/** Every role of the server's catalogue. */
export type Role = ${role};
`;
}

interface Module {
  /** Specifiers of the other modules of the client it imports. */
  locals: string[];
  /** The names it imports from them. */
  localNames: Set<string>;
  /** Named imports from packages: specifier → names. */
  peers: Map<string, Set<string>>;
  body: string;
}

/** Splits a declaration file into its imports and the rest; `export` is kept only for the entry point. */
function parseModule(text: string, entry: boolean): Module {
  const module: Module = { locals: [], localNames: new Set(), peers: new Map(), body: "" };
  const body: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("import ")) {
      const named = /^import (?:type )?\{([^}]*)\} from "([^"]+)";$/.exec(line);
      if (!named) throw new Error(`unsupported import in a declaration file: ${line}`);
      const names = named[1]!.split(",").map((name) => name.trim().replace(/^type /, "")).filter(Boolean);
      if (names.some((name) => name.includes(" as "))) throw new Error(`renamed import in a declaration file: ${line}`);
      const specifier = named[2]!;
      if (specifier.startsWith(".")) {
        module.locals.push(specifier);
        for (const name of names) module.localNames.add(name);
      }
      else module.peers.set(specifier, new Set([...(module.peers.get(specifier) ?? []), ...names]));
      continue;
    }
    if (line === "export {};") continue;
    body.push(entry ? line : line.replace(/^export (declare |interface |type |class )/, "$1"));
  }
  module.body = body.join("\n").trim();
  return module;
}

/** Joins the declaration files reachable from the entry point into one, dependencies first. */
function bundleDeclarations(entry: string, read: (file: string) => string): string {
  const order: string[] = [];
  const modules = new Map<string, Module>();
  const visit = (file: string) => {
    if (modules.has(file)) return;
    const module = parseModule(read(file), file === entry);
    modules.set(file, module);
    for (const specifier of module.locals) visit(resolve(dirname(file), specifier.replace(/\.ts$/, ".d.ts")));
    order.push(file);
  };
  visit(entry);
  const peers = new Map<string, Set<string>>();
  for (const module of modules.values()) {
    for (const [specifier, names] of module.peers) peers.set(specifier, new Set([...(peers.get(specifier) ?? []), ...names]));
  }
  const imports = [...peers].sort(([a], [b]) => a.localeCompare(b)).map(([specifier, names]) => `import type { ${[...names].sort().join(", ")} } from "${specifier}";`);
  const bodies = order.map((file) => `// ${relative(EMIT, file).replace(/\.d\.ts$/, ".ts").replace(/^.*src\//, "")}\n${modules.get(file)!.body}`);
  return `${[...imports, "", ...bodies].join("\n")}\n`;
}

/**
 * dist/trpc.d.ts from the emitted declarations of src/links.ts: what it takes
 * from the client's other modules, it takes from dist/index.d.ts, which
 * exports all of it (a name it does not export fails the consumer's compile).
 */
function companionDeclarations(links: string): string {
  const module = parseModule(links, true);
  const fromIndex = module.localNames;
  const imports = [...module.peers].map(([specifier, names]) => `import type { ${[...names].sort().join(", ")} } from "${specifier}";`);
  imports.push(`import type { ${[...fromIndex].sort().join(", ")} } from "./index.js";`);
  return `${imports.join("\n")}\n${module.body}\n`;
}

async function main(): Promise<void> {
  rmSync(EMIT, { recursive: true, force: true });
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });

  // Declarations of the client's modules and of scripts/shape.ts, in one compiler run.
  execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(PACKAGE, "tsconfig.build.json"), "--outDir", EMIT], {
    cwd: PACKAGE,
    stdio: "inherit",
  });
  const emitted = (path: string) => join(EMIT, "packages/client", path);
  const generated = serverTypes(readFileSync(emitted("scripts/shape.d.ts"), "utf8"));
  const dts = bundleDeclarations(emitted("src/index.d.ts"), (file) =>
    file === emitted("src/server-types.d.ts") ? generated : readFileSync(file, "utf8"),
  );
  checkDeclarationImports("index.d.ts", dts);
  writeFileSync(join(OUT, "index.d.ts"), `/** @gatehouse/client: the typed Gatehouse client (built by scripts/build.ts; do not edit). */\n${dts}`);
  const trpc = companionDeclarations(readFileSync(emitted("src/links.d.ts"), "utf8"));
  checkDeclarationImports("trpc.d.ts", trpc);
  writeFileSync(join(OUT, "trpc.d.ts"), `/** @gatehouse/client/trpc (built by scripts/build.ts; do not edit). */\n${trpc}`);

  await build({
    entryPoints: [join(PACKAGE, "src/index.ts"), join(PACKAGE, "src/trpc.ts")],
    outdir: OUT,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    external: [...PEERS, `${PEERS[1]}/*`, "superjson"],
    legalComments: "none",
    logLevel: "warning",
  });
  rmSync(EMIT, { recursive: true, force: true });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
