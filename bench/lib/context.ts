/**
 * What every bench section shares: the settings of the run, the table it fills
 * (rows, results), the scratch database, the processes it started, the main
 * Gatehouse with its account, and the figures later sections compare against.
 */
import { availableParallelism, loadavg } from "node:os";
import { createScratchDatabase, type ScratchDatabase } from "./postgres.ts";
import { load, type LoadResult } from "./load.ts";
import type { Child } from "./processes.ts";

export const DURATION = Number(process.env.BENCH_DURATION ?? 5);
export const WARMUP = Math.min(2, Math.max(1, DURATION / 5));
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
export const PG_SERVER = process.env.BENCH_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const BCRYPT_COST = Number(process.env.BCRYPT_COST ?? 12);
export const CORES = availableParallelism();
export const SECRET = "bench-secret-0123456789-bench-secret-0123456789";
export const started = performance.now();
export const loadBefore = loadavg()[0]!;

/** What every Gatehouse under test runs with: production, limits out of the way, default logging. */
export function gatehouseEnv(extra: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: "production",
    JWT_SECRET: SECRET,
    // Production refuses a non-https APP_URL; no mail leaves the bench.
    APP_URL: "https://app.example.com",
    BCRYPT_COST: String(BCRYPT_COST),
    DATA_DIR: ":memory:",
    LOG_LEVEL: "info",
    // The hardening limits would turn a load test into 429s; the bench measures the work.
    AUTH_RATE_LIMIT_PER_MINUTE: "1000000",
    LOGIN_MAX_FAILURES: "1000",
    // One bench user holds the 1,000 auth.events streams of the fan-out figure.
    EVENTS_MAX_PER_USER: "1000",
    // Production needs it to seal TOTP secrets (a fixed bench key, never a real one).
    ENCRYPTION_KEY: "YmVuY2gta2V5LWJlbmNoLWtleS1iZW5jaC1rZXktMzI=",
    ...extra,
  };
}

export function progress(message: string): void {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
}

/** Warm up, then measure. */
export async function measure(label: string, options: Parameters<typeof load>[0]): Promise<LoadResult> {
  progress(label);
  await load({ ...options, duration: WARMUP });
  const result = await load(options);
  if (result.errors > 0 || result.non2xx > 0) progress(`  ${label}: ${result.non2xx} non-2xx, ${result.errors} errors ${JSON.stringify(result.statusCodes)}`);
  return result;
}

export const meOf = (child: Child, token: string, path = "/trpc/auth.me") => ({
  url: `${child.url}${path}`,
  headers: { authorization: `Bearer ${token}` },
  connections: CONNECTIONS,
  duration: DURATION,
});

export const MB = (bytes: number) => bytes / 1024 / 1024;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

export interface Row {
  figure: string;
  value: string;
  ratio: number;
  of: string;
  target: string;
  met?: boolean;
}

/** The login load of the bench user: set by the logins section, reused by the flood and memory sections. */
export interface LoginLoad {
  url: string;
  method: "POST";
  headers: Record<string, string>;
  body: string;
  duration: number;
}

export class BenchContext {
  readonly rows: Row[] = [];
  readonly results: Record<string, unknown> = {};
  /** Every process still running; the run stops what is left at the end. */
  readonly children: Child[] = [];
  /** The raw node:http baselines on PostgreSQL (plain and prepared), and the main Gatehouse with its account (set by startServers). */
  baseline!: Child;
  preparedBaseline!: Child;
  gh!: Child;
  email!: string;
  accessToken!: string;
  /** The baseline's req/s and the auth.me run later sections compare against (set by meAgainstBaseline). */
  baseRps!: number;
  me!: LoadResult;
  /** Set by logins: the login load and the hashing ceiling in logins/s. */
  loginLoad!: LoginLoad;
  ceiling!: number;

  private constructor(readonly scratch: ScratchDatabase) {}

  static async create(): Promise<BenchContext> {
    return new BenchContext(await createScratchDatabase(PG_SERVER));
  }

  /** Starts a process the run stops at the end if a section has not. */
  readonly spawnTracked = async (p: Promise<Child>): Promise<Child> => {
    const child = await p;
    this.children.push(child);
    return child;
  };

  readonly stop = async (child: Child): Promise<void> => {
    this.children.splice(this.children.indexOf(child), 1);
    await child.stop();
  };
}
