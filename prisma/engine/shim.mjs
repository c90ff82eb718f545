// Stand-in for Prisma's native `schema-engine` binary, built on
// @prisma/schema-engine-wasm + @prisma/adapter-pg (see README.md here).
//
// The Prisma CLI runs the binary in two ways (node_modules/prisma/build/cli.js):
//   schema-engine --datasource '{"url":…}' cli can-connect-to-database|create-database|drop-database
//     exit 0 on success; on failure exit 1 with JSON log lines on stderr, the
//     first of which the CLI skips.
//   schema-engine [--datamodels <file>]… [--datasource '{"url":…}'] …
//     JSON-RPC 2.0, one message per line: requests on stdin, responses on
//     stdout, JSON log lines on stderr. The CLI ends stdin, then kills us.
//   schema-engine --version
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

// The engine's panic hook reports the Rust panic message here before the wasm
// instance traps (the Prisma CLI sets up the same object for its wasm modules).
const panicRegistry = { message: "", set_message(m) { this.message = `RuntimeError: ${m}`; } };
globalThis.PRISMA_WASM_PANIC_REGISTRY ??= panicRegistry;

// Anything on stderr that is not a JSON log line breaks the CLI's parsing in
// `cli` mode, so Node's own warnings are logged as JSON too.
process.removeAllListeners("warning");
process.on("warning", (w) => log("WARN", `${w.name}: ${w.message}`));
process.stderr.on("error", () => {});
process.stdout.on("error", () => {});
// The CLI ends stdin and then kills us at once; the RPC server replaces this
// with a clean shutdown (shadow databases dropped) once it is running.
let onSignal = () => process.exit(0);
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => onSignal());

function log(level, message, extra = {}) {
  const line = {
    timestamp: new Date().toISOString(),
    level,
    fields: { message, ...extra },
    target: "schema_engine::logger",
  };
  try {
    process.stderr.write(`${JSON.stringify(line)}\n`);
  } catch {
    // the CLI may already be gone
  }
}
const debug = (message) => {
  if (process.env.PRISMA_SHIM_DEBUG) log("DEBUG", message);
};

function parseArgs(argv) {
  const args = { datamodels: [], datasource: undefined, cli: undefined, version: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--datamodels") args.datamodels.push(argv[++i]);
    else if (a === "--datasource" || a === "-d") args.datasource = JSON.parse(argv[++i]);
    else if (a === "--enabled-preview-features" || a === "--extension-types") i++;
    else if (a === "--version" || a === "-V" || a === "-v") args.version = true;
    else if (a === "cli") {
      args.cli = argv[++i];
      break;
    }
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const pgMod = await import("./pg.mjs");
const { parsePgUrl, toUserError, UserError } = pgMod;

if (args.version) {
  const wasm = await loadWasmRuntime();
  process.stdout.write(`schema-engine-cli ${wasm.version()} (wasm stand-in)\n`);
  process.exit(0);
} else if (args.cli) {
  await runCliCommand(args);
} else {
  await runRpcServer(args);
}

function datasourceUrl(datasource) {
  const url = datasource?.url;
  if (!url) throw new UserError("P1012", "No datasource URL: set `datasource.url` in prisma.config.ts.");
  return url;
}

async function runCliCommand({ cli, datasource }) {
  // The CLI drops the first stderr line before parsing the rest as JSON.
  log("INFO", `schema-engine wasm stand-in: cli ${cli}`);
  let info;
  try {
    info = parsePgUrl(datasourceUrl(datasource));
    if (cli === "can-connect-to-database") await pgMod.canConnect(info);
    else if (cli === "create-database") await pgMod.createDatabase(info);
    else if (cli === "drop-database") await pgMod.dropDatabase(info);
    else throw new Error(`Unknown cli command: ${cli}`);
    process.exit(0);
  } catch (err) {
    const userError = info ? toUserError(err, info) : err instanceof UserError ? err : null;
    if (userError) log("ERROR", userError.message, { error_code: userError.code });
    else log("ERROR", err?.message ?? String(err));
    process.exit(1);
  }
}

/** Loads the wasm-bindgen glue and instantiates the engine's .wasm next to it. */
async function loadWasmRuntime() {
  let gluePath;
  try {
    gluePath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
  } catch {
    throw new Error(
      "@prisma/schema-engine-wasm is not installed: run `npm install` (it is a devDependency), or point PRISMA_SCHEMA_ENGINE_BINARY at a native schema engine.",
    );
  }
  const runtime = await import(gluePath);
  const wasmFile = path.join(path.dirname(gluePath), "schema_engine_bg.wasm");
  const module = new WebAssembly.Module(fs.readFileSync(wasmFile));
  const instance = new WebAssembly.Instance(module, { "./schema_engine_bg.js": runtime });
  runtime.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  return runtime;
}

async function runRpcServer({ datamodels, datasource }) {
  let info;
  let factory;
  let engine;
  let enginePromise;

  const datamodelFiles = datamodels.map((file) => [file, fs.readFileSync(file, "utf8")]);

  async function getEngine() {
    enginePromise ??= (async () => {
      const runtime = await loadWasmRuntime();
      info = parsePgUrl(datasourceUrl(datasource));
      factory = new pgMod.ShimPgFactory(info, (m) => log("INFO", m));
      engine = await runtime.SchemaEngine.new(
        { datamodels: datamodelFiles.length > 0 ? datamodelFiles : undefined },
        (line) => forwardEngineLog(line),
        pgMod.bindMigrationAwareSqlAdapterFactory(factory),
      );
      return engine;
    })();
    return enginePromise;
  }

  let shuttingDown = false;
  let panicked = false;
  const out = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);
  let nextPrintId = 1_000_000;
  const pendingPrints = new Map();

  // The native engine prints diffs by asking the CLI to (a `print` request);
  // the CLI writes `content + "\n"` to its stdout and answers.
  function printThroughCli(content) {
    if (shuttingDown) return Promise.resolve();
    const id = nextPrintId++;
    return new Promise((resolve) => {
      pendingPrints.set(id, resolve);
      out({ jsonrpc: "2.0", id, method: "print", params: { content } });
    });
  }

  // The wasm engine computes "the schema the migrations produce" with the
  // driver adapter's shadow database only in diff and (dev)diagnose; in
  // evaluateDataLoss and createMigration it only reads a cache keyed by the
  // migration list, which devDiagnostic fills for the migrations applied *at
  // that time*. When `migrate dev` has just applied pending migrations the
  // cache misses and the engine fails with "PostgreSQL shadow DB must be
  // provided through an external factory". The CLI applies every pending
  // migration before those two calls, so a diagnoseMigrationHistory with the
  // same list fills the cache under the right key; then we retry once.
  async function withWarmMigrationCache(method, params) {
    const eng = await getEngine();
    try {
      return await eng[method](params);
    } catch (err) {
      if (!/shadow DB must be provided through an external factory/.test(String(err?.message ?? err))) throw err;
      debug(`${method}: migration schema cache miss, warming it with diagnoseMigrationHistory`);
      await eng.diagnoseMigrationHistory({
        migrationsList: params.migrationsList,
        optInToShadowDatabase: true,
        filters: params.filters ?? { externalTables: [], externalEnums: [] },
      });
      return await eng[method](params);
    }
  }

  // `{ datasource: { tag: "ConnectionString", url } }`, else the configured URL.
  const paramUrl = (params) =>
    params?.datasource?.tag === "ConnectionString" ? params.datasource.url : datasourceUrl(datasource);

  const handlers = {
    evaluateDataLoss: (params) => withWarmMigrationCache("evaluateDataLoss", params),
    createMigration: (params) => withWarmMigrationCache("createMigration", params),
    async diff(params) {
      const { stdout, ...rest } = await (await getEngine()).diff(params);
      if (stdout) await printThroughCli(stdout.endsWith("\n") ? stdout.slice(0, -1) : stdout);
      return rest;
    },
    async getDatabaseVersion(params) {
      return (await getEngine()).version(params ?? undefined);
    },
    async createDatabase(params) {
      const target = parsePgUrl(paramUrl(params));
      await pgMod.createDatabase(target).catch((err) => Promise.reject(toUserError(err, target) ?? err));
      return { databaseName: target.database };
    },
    async ensureConnectionValidity(params) {
      const target = parsePgUrl(paramUrl(params));
      await pgMod.canConnect(target).catch((err) => Promise.reject(toUserError(err, target) ?? err));
      return {};
    },
    async getDatabaseDescription() {
      throw new Error("getDatabaseDescription is not supported by the wasm stand-in schema engine");
    },
  };

  async function handle(request) {
    const { id, method, params } = request;
    debug(`-> ${method} ${JSON.stringify(params ?? null).slice(0, 2000)}`);
    if (panicked) {
      out({ jsonrpc: "2.0", id, error: { code: 4466, message: "The schema engine panicked earlier.", data: { is_panic: true, message: panicRegistry.message } } });
      return;
    }
    try {
      let result;
      if (handlers[method]) result = await handlers[method](params);
      else {
        const eng = await getEngine();
        if (typeof eng[method] !== "function") {
          out({ jsonrpc: "2.0", id, error: { code: -32601, message: `Method not found: ${method}` } });
          return;
        }
        // Call through the instance: detaching the method breaks wasm-bindgen's `this`.
        result = await eng[method](params);
      }
      debug(`<- ${method} ${JSON.stringify(result ?? null).slice(0, 2000)}`);
      out({ jsonrpc: "2.0", id, result: result ?? null });
    } catch (err) {
      out({ jsonrpc: "2.0", id, error: toRpcError(err) });
      // Like the native engine: after a panic the engine is unusable, exit 101.
      if (panicked) void shutdown(101);
    }
  }

  function toRpcError(err) {
    const userError = info ? toUserError(err, info) : err instanceof UserError ? err : null;
    const data = { is_panic: false, message: "", backtrace: null };
    if (userError) {
      data.message = userError.message;
      data.error_code = userError.code;
    } else if (isPanic(err)) {
      data.is_panic = true;
      data.message = panicRegistry.message || String(err?.message ?? err);
      data.error = { message: data.message };
      panicked = true;
    } else if (err && typeof err === "object" && typeof err.code === "string" && /^P\d{4}$/.test(err.code)) {
      data.message = err.message;
      data.error_code = err.code;
      if (err.meta !== undefined) data.meta = err.meta;
    } else {
      data.message = describeError(err);
    }
    log("ERROR", data.message, data.error_code ? { error_code: data.error_code } : {});
    return { code: 4466, message: "An error happened. Check the data field for details.", data };
  }

  function isPanic(err) {
    return err instanceof WebAssembly.RuntimeError || Boolean(panicRegistry.message);
  }

  function describeError(err) {
    if (!err) return "Unknown error";
    if (typeof err === "string") return err;
    const parts = [err.message ?? String(err)];
    if (err.cause && typeof err.cause === "object") parts.push(JSON.stringify(err.cause));
    return parts.filter(Boolean).join("\n");
  }

  // One request at a time, in order.
  let queue = Promise.resolve();
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  rl.on("line", (line) => {
    if (!line.trim()) return;
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      out({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
      return;
    }
    if (msg.method === undefined && pendingPrints.has(msg.id)) {
      pendingPrints.get(msg.id)();
      pendingPrints.delete(msg.id);
      return;
    }
    queue = queue.then(() => handle(msg));
  });

  async function shutdown(code) {
    if (shuttingDown) return;
    shuttingDown = true;
    // Nobody is left to answer `print` requests.
    for (const resolve of pendingPrints.values()) resolve();
    pendingPrints.clear();
    // Let the request in flight finish (it disposes its own shadow database),
    // but do not hang forever on it.
    await Promise.race([queue.catch(() => {}), new Promise((r) => setTimeout(r, 15_000).unref())]);
    try {
      if (!panicked) engine?.free();
    } catch {
      // already freed
    }
    await factory?.dropLeftoverShadowDatabases();
    process.exit(code);
  }
  rl.on("close", () => void shutdown(0));
  onSignal = () => void shutdown(0);
  process.on("uncaughtException", (err) => {
    log("ERROR", `schema-engine stand-in crashed: ${err?.stack ?? err}`);
    panicked = true;
    void shutdown(101);
  });
}

// The wasm engine hands every tracing event (down to TRACE) to its callback as
// a JSON line; like the native binary, pass on those at or above RUST_LOG's
// level (the CLI sets RUST_LOG=info).
const LEVELS = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };
const minLevel = /trace/i.test(process.env.RUST_LOG ?? "") ? 0 : /debug/i.test(process.env.RUST_LOG ?? "") ? 1 : 2;

function forwardEngineLog(line) {
  if (typeof line !== "string") line = JSON.stringify(line);
  let parsed;
  try {
    parsed = JSON.parse(line);
  } catch {
    parsed = null;
  }
  if (!parsed?.fields) {
    log("INFO", line);
    return;
  }
  if ((LEVELS[parsed.level] ?? LEVELS.INFO) < minLevel) return;
  try {
    process.stderr.write(`${line}\n`);
  } catch {
    // the CLI may already be gone
  }
}

