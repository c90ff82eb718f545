/**
 * bcrypt on a few worker threads of low CPU priority.
 *
 * bcrypt's async API runs on libuv's thread pool at normal priority. During a
 * login flood every core is busy hashing, and the event loop thread, which
 * answers `auth.me` and every other request, then waits for its turn like any
 * other thread: its tail latency grows with the flood (measured: p99 x6 in
 * `npm run bench`). Here each hash runs synchronously on a worker thread that
 * lowered its own scheduling priority (nice +10, Linux: per thread), so the
 * kernel preempts hashing as soon as the event loop has work, while idle cores
 * still hash at full speed. Concurrency stays bounded by PasswordHasher: it
 * never gives this pool more jobs than it has threads.
 *
 * The worker is evaluated from the string below (not a file) so that it runs
 * the same under tsx, vitest, or compiled output; it loads bcrypt by the
 * absolute path resolved here. Like libuv's pool, the threads belong to the
 * process: one pool of one thread per core, shared by every PasswordHasher,
 * started on first use, never holding the process open while idle.
 */
import { createRequire } from "node:module";
import { availableParallelism, getPriority } from "node:os";
import { Worker } from "node:worker_threads";

/** How much lower than the process the hashing threads set their priority (nice 0 normal, 19 lowest). */
const HASH_THREAD_NICE_STEP = 10;

/**
 * The nice value the hashing threads give themselves: the process's own plus
 * 10 (a process started under `nice` keeps the event loop ahead of hashing).
 */
export function hashThreadNice(): number {
  let base = 0;
  try {
    base = getPriority();
  } catch {
    // Not supported here: count from normal priority.
  }
  return Math.min(19, base + HASH_THREAD_NICE_STEP);
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const bcrypt = require(workerData.bcryptPath);
try {
  // /proc/thread-self -> <pid>/task/<tid>: this thread's id, whose nice value Linux sets on its own.
  const tid = Number(require("node:fs").readlinkSync("/proc/thread-self").split("/").pop());
  require("node:os").setPriority(tid, workerData.nice);
} catch {
  // Not Linux, or not allowed: hash at normal priority.
}
parentPort.on("message", ({ id, op, data, arg }) => {
  try {
    const result = op === "hash" ? bcrypt.hashSync(data, arg) : bcrypt.compareSync(data, arg);
    parentPort.postMessage({ id, result });
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
`;

type Job = { op: "hash"; data: string; arg: number } | { op: "compare"; data: string; arg: string };
interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

class HashThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;

  constructor(onExit: (thread: HashThread) => void) {
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      // None of the parent's flags (a TypeScript loader, --input-type=module): plain CommonJS, less memory.
      execArgv: [],
      workerData: { bcryptPath: createRequire(import.meta.url).resolve("bcrypt"), nice: hashThreadNice() },
      // bcrypt needs little: keep the thread's own heap small.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    this.#worker.unref();
    this.#worker.on("message", ({ id, result, error }: { id: number; result?: unknown; error?: string }) => {
      const pending = this.#pending.get(id);
      if (!pending) return;
      this.#pending.delete(id);
      if (this.#pending.size === 0) this.#worker.unref();
      if (error !== undefined) pending.reject(new Error(`bcrypt: ${error}`));
      else pending.resolve(result);
    });
    const fail = (error: Error) => {
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
    this.#worker.on("error", fail);
    this.#worker.on("exit", (code) => {
      fail(new Error(`bcrypt thread exited (${code})`));
      onExit(this);
    });
  }

  get busy(): number {
    return this.#pending.size;
  }

  run<T>(job: Job): Promise<T> {
    const id = this.#nextId++;
    // Held while a job is in flight, so that an awaited hash keeps the process up.
    this.#worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.postMessage({ id, ...job });
    });
  }

  terminate(): Promise<number> {
    return this.#worker.terminate();
  }
}

/** Up to `size` hashing threads; each job goes to the least busy one. */
export class HashThreads {
  readonly #size: number;
  readonly #threads: HashThread[] = [];

  constructor(size: number) {
    this.#size = Math.max(1, size);
  }

  hash(data: string, cost: number): Promise<string> {
    return this.#pick().run<string>({ op: "hash", data, arg: cost });
  }

  compare(data: string, hash: string): Promise<boolean> {
    return this.#pick().run<boolean>({ op: "compare", data, arg: hash });
  }

  /** Stops the threads (tests; a server just exits). */
  async close(): Promise<void> {
    await Promise.all(this.#threads.splice(0).map((t) => t.terminate()));
  }

  #pick(): HashThread {
    const idle = this.#threads.find((t) => t.busy === 0);
    if (idle) return idle;
    if (this.#threads.length < this.#size) {
      const thread = new HashThread((dead) => {
        const index = this.#threads.indexOf(dead);
        if (index >= 0) this.#threads.splice(index, 1);
      });
      this.#threads.push(thread);
      return thread;
    }
    return this.#threads.reduce((a, b) => (b.busy < a.busy ? b : a));
  }
}

let shared: HashThreads | undefined;

/** The process's hashing threads, one per core. */
export function hashThreads(): HashThreads {
  return (shared ??= new HashThreads(availableParallelism()));
}
