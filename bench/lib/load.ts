/** Load generation: autocannon against one URL, and the accounts and tokens it needs. */
import autocannon from "autocannon";

export interface LoadOptions {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  /** Seconds. */
  duration: number;
  /** Requests per second over all connections; unset: as fast as answers come. */
  overallRate?: number;
}

export interface LoadResult {
  /** 2xx answers per second over the run. */
  rps: number;
  /**
   * 2xx answers per second between the first and the last 2xx answer: the
   * steady rate, without the pipeline filling up at the start (which matters
   * when each answer takes a noticeable part of the run, as logins do).
   */
  steadyRps: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
}

/** Runs autocannon and reduces its result to what the bench reports. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  let first = 0;
  let last = 0;
  let okCount = 0;
  let done!: (result: autocannon.Result) => void;
  let failed!: (error: unknown) => void;
  const finished = new Promise<autocannon.Result>((resolve, reject) => ((done = resolve), (failed = reject)));
  const instance = autocannon(
    {
    url: options.url,
    method: options.method ?? "GET",
    headers: options.headers,
    body: options.body,
    connections: options.connections,
    duration: options.duration,
    overallRate: options.overallRate,
    timeout: 30,
    },
    (error: unknown, result: autocannon.Result) => (error ? failed(error) : done(result)),
  );
  instance.on("response", (_client: unknown, statusCode: number) => {
    if (statusCode < 200 || statusCode > 299) return;
    const now = performance.now();
    if (okCount++ === 0) first = now;
    last = now;
  });
  const result = await finished;
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries((result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {})) {
    statusCodes[code] = count;
  }
  return {
    rps: result["2xx"] / options.duration,
    steadyRps: okCount > 1 ? ((okCount - 1) * 1000) / (last - first) : 0,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    statusCodes,
  };
}

/** Calls a tRPC mutation with superjson's envelope (and a bearer token, if given); throws on a non-2xx answer. */
export async function mutate<T>(baseUrl: string, procedure: string, input: unknown, accessToken?: string): Promise<T> {
  const res = await fetch(`${baseUrl}/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}) },
    body: JSON.stringify({ json: input }),
  });
  const body = (await res.json()) as { result?: { data: { json: T } }; error?: unknown };
  if (!res.ok || !body.result) throw new Error(`${procedure} failed (${res.status}): ${JSON.stringify(body)}`);
  return body.result.data.json;
}

export const BENCH_PASSWORD = "bench marks are not passwords 42";

/** Registers an account and returns its email and access token. */
export async function registerAccount(baseUrl: string, tag: string): Promise<{ email: string; accessToken: string }> {
  const email = `bench-${tag}-${Date.now()}@example.com`;
  const result = await mutate<{ accessToken: string }>(baseUrl, "auth.register", { email, password: BENCH_PASSWORD, name: "Bench" });
  return { email, accessToken: result.accessToken };
}
