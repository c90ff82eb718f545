/**
 * WEB_CONCURRENCY (server/cluster.ts): several workers share one port, tokens
 * from one verify on the others, a dead worker is replaced, and SIGTERM stops
 * them all with exit code 0. Workers need PostgreSQL (PGlite belongs to one
 * process), so the cluster runs only with TEST_DATABASE_URL; the refusal
 * without DATABASE_URL is checked on every run.
 */
import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { newAccount } from "./helpers/caller.ts";
import { appCodesOf, postOnOwnConnection, tally } from "./helpers/connections.ts";
import { onPostgres, scratchPostgresUrl } from "./helpers/database.ts";

/** Why these are skipped on PGlite: workers share one database, which the embedded one cannot be. */
const ONLY_POSTGRES = onPostgres ? "" : " (skipped: workers need a shared database, set TEST_DATABASE_URL)";
import { spawnMain, spawnServer } from "./helpers/production-server.ts";

/** One request on its own connection, so that the cluster may hand it to any worker. */
function get(url: string, path: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { agent: false, headers: { authorization: `Bearer ${token}`, connection: "close" } }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A login attempt on its own connection (any worker may take it); resolves to the status. */
function login(url: string): Promise<number> {
  const body = JSON.stringify({ json: { email: "nobody@example.com", password: "not the password" } });
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/trpc/auth.login`,
      { method: "POST", agent: false, headers: { "content-type": "application/json", connection: "close" } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode!));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Pids of the processes that logged a finished request. */
function servingPids(output: string): Set<number> {
  const pids = new Set<number>();
  for (const line of output.split("\n")) {
    if (line.includes('"msg":"request"')) pids.add((JSON.parse(line) as { pid: number }).pid);
  }
  return pids;
}

describe("WEB_CONCURRENCY", () => {
  it("refuses more than one worker without DATABASE_URL, naming the variable", async () => {
    const { output, exited } = spawnMain({ DATA_DIR: ":memory:", WEB_CONCURRENCY: "2" });
    expect(await exited).toBe(1);
    expect(output()).toMatch(/WEB_CONCURRENCY: 2 workers need DATABASE_URL/);
  });

  it.runIf(onPostgres)(`serves from every worker, replaces a dead one, and exits 0 on SIGTERM${ONLY_POSTGRES}`, async () => {
    const databaseUrl = await scratchPostgresUrl();
    // No JWT_SECRET: the primary makes one secret for all workers.
    const server = await spawnServer({ NODE_ENV: "development", DATABASE_URL: databaseUrl, DATA_DIR: ":memory:", WEB_CONCURRENCY: "2", BCRYPT_COST: "4" });
    await until("both workers", () => server.output().includes("gatehouse cluster ready"));
    const workerPids = [...server.output().matchAll(/"pid":(\d+)[^\n]*"msg":"gatehouse listening"/g)].map((m) => Number(m[1]));
    expect(new Set(workerPids).size).toBe(2);
    expect(workerPids).not.toContain(server.proc.pid);

    const res = await fetch(`${server.url}/trpc/auth.register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ json: newAccount() }),
    });
    expect(res.status).toBe(200);
    const { accessToken } = ((await res.json()) as { result: { data: { json: { accessToken: string } } } }).result.data.json;

    // The token verifies whichever worker answers (round-robin over connections).
    for (let i = 0; i < 12; i++) expect((await get(server.url, "/trpc/auth.me", accessToken)).status).toBe(200);
    expect(servingPids(server.output()).size).toBe(2);

    // A worker that dies is replaced, and the port keeps answering meanwhile.
    process.kill(workerPids[0]!, "SIGKILL");
    await until("a replacement worker", () => /worker died: starting another/.test(server.output()));
    await until("the replacement listening", () => server.output().match(/"msg":"gatehouse listening"/g)!.length === 3);
    for (let i = 0; i < 6; i++) expect((await get(server.url, "/trpc/auth.me", accessToken)).status).toBe(200);
    const current = [...server.output().matchAll(/"pid":(\d+)[^\n]*"msg":"gatehouse listening"/g)].map((m) => Number(m[1])).slice(1);

    server.proc.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    for (const pid of current) expect(alive(pid)).toBe(false);
    expect(server.output()).toMatch(/"msg":"stopped"/);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it.runIf(onPostgres)(`shares the rate-limit counters between workers when there is no Redis${ONLY_POSTGRES}`, async () => {
    const databaseUrl = await scratchPostgresUrl();
    const server = await spawnServer({
      NODE_ENV: "development",
      DATABASE_URL: databaseUrl,
      DATA_DIR: ":memory:",
      WEB_CONCURRENCY: "2",
      BCRYPT_COST: "4",
      AUTH_RATE_LIMIT_PER_MINUTE: "4",
      LOGIN_MAX_FAILURES: "1000",
    });
    try {
      await until("both workers", () => server.output().includes("gatehouse cluster ready"));
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push(await login(server.url));
      expect(servingPids(server.output()).size).toBe(2);
      // 4 per minute for the whole cluster, not 4 per worker.
      expect(statuses).toEqual([401, 401, 401, 401, 429, 429, 429, 429]);
    } finally {
      server.proc.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    }
  });

  it.runIf(onPostgres)(`gives 40 wrong passwords sent at once to two workers LOGIN_MAX_FAILURES verifications, and a replay on either worker inside the grace window the same successor${ONLY_POSTGRES}`, async () => {
    const server = await spawnServer({
      NODE_ENV: "development",
      DATABASE_URL: await scratchPostgresUrl(),
      DATA_DIR: ":memory:",
      WEB_CONCURRENCY: "2",
      BCRYPT_COST: "4",
      AUTH_RATE_LIMIT_PER_MINUTE: "1000",
      LOGIN_MAX_FAILURES: "3",
    });
    try {
      await until("both workers", () => server.output().includes("gatehouse cluster ready"));
      const account = newAccount();
      const registered = await postOnOwnConnection(`${server.url}/trpc/auth.register`, { json: account });
      const auth = registered.body.result.data.json as { refreshToken: string };
      const answers = await Promise.all(
        Array.from({ length: 40 }, () =>
          postOnOwnConnection(`${server.url}/trpc/auth.login`, { json: { email: account.email, password: "not the password at all" } }),
        ),
      );
      // Each INVALID_CREDENTIALS is one verification; RATE_LIMITED had none, nor
      // OVERLOADED (a worker whose call to the primary's counters timed out on
      // a loaded machine takes no point and checks nothing).
      const codes = tally(answers.flatMap(appCodesOf));
      const overloaded = codes.OVERLOADED ?? 0;
      expect(codes).toEqual({
        INVALID_CREDENTIALS: Math.min(3, 40 - overloaded),
        RATE_LIMITED: 40 - overloaded - Math.min(3, 40 - overloaded),
        ...(overloaded > 0 ? { OVERLOADED: overloaded } : {}),
      });

      // Both workers hold the primary's development ENCRYPTION_KEY: whichever
      // worker answers the replays opens the successor the other one sealed.
      const rotated = await postOnOwnConnection(`${server.url}/trpc/auth.refresh`, { json: { refreshToken: auth.refreshToken } });
      const successor = rotated.body.result.data.json.refreshToken as string;
      const replays = await Promise.all(
        Array.from({ length: 6 }, () => postOnOwnConnection(`${server.url}/trpc/auth.refresh`, { json: { refreshToken: auth.refreshToken } })),
      );
      expect(replays.map((r) => r.body.result?.data.json.refreshToken)).toEqual(Array(6).fill(successor));
      expect(servingPids(server.output()).size).toBe(2);
    } finally {
      server.proc.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    }
  });
});
