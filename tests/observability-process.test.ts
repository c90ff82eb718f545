/**
 * Metrics and traces of the server as `npm start` runs it (the compiled
 * build under node): spans exported over OTLP/HTTP to a receiver of our own,
 * the tracing SDK not even loaded without an endpoint, and one scrape of a
 * WEB_CONCURRENCY=2 group counting what both workers answered.
 */
import { createServer, request, type IncomingMessage } from "node:http";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { spawnServer } from "./helpers/production-server.ts";
import { newAccount } from "./helpers/caller.ts";
import { onPostgres, scratchPostgresUrl } from "./helpers/database.ts";
import { parseSamples, valueOf } from "./helpers/prometheus.ts";

/** Starting the built server takes seconds, and many more on a machine busy with other work. */
const PROCESS_TIMEOUT = 120_000;
const RECORDER = fileURLToPath(new URL("./fixtures/record-imports.mjs", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "gatehouse-observability-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The OpenTelemetry SDK modules a process imported, as recorded by tests/fixtures/record-imports.mjs. */
function sdkModules(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter((url) => /@opentelemetry\/(sdk-trace|exporter-trace-otlp-http|context-async-hooks)\//.test(url));
}

async function post(url: string, path: string, input: unknown, token?: string) {
  const res = await fetch(`${url}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ json: input }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** A local OTLP/HTTP receiver: keeps every body POSTed to /v1/traces. */
async function otlpReceiver(): Promise<{ url: string; bodies: string[]; close(): void }> {
  const bodies: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/traces") bodies.push(body);
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, close: () => server.close() };
}

interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: { key: string; value: Record<string, unknown> }[];
}

function spansIn(bodies: string[]): OtlpSpan[] {
  return bodies.flatMap((body) =>
    (JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] }).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
  );
}

describe("traces from the built server", () => {
  it("exports request, database and hashing spans over OTLP/HTTP, without a secret or an email in them", async () => {
    const receiver = await otlpReceiver();
    const imports = join(scratch, "imports-on.txt");
    const server = await spawnServer({
      DATA_DIR: ":memory:",
      BCRYPT_COST: "4",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      NODE_OPTIONS: `--import ${RECORDER}`,
      RECORD_IMPORTS: imports,
    });
    const account = newAccount();
    const registered = await post(server.url, "auth.register", account);
    expect(registered.status).toBe(200);
    const login = await post(server.url, "auth.login", account);
    expect(login.status).toBe(200);
    const { accessToken, refreshToken } = login.body.result.data.json as { accessToken: string; refreshToken: string };
    expect((await fetch(`${server.url}/trpc/auth.me`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200);
    expect((await post(server.url, "auth.login", { ...account, password: "definitely not the password" })).status).toBe(401);
    // SIGTERM: the server flushes its span batch before it exits.
    server.proc.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    receiver.close();

    const spans = spansIn(receiver.bodies);
    const names = spans.map((s) => s.name);
    for (const name of ["auth.register", "auth.login", "auth.me", "password.hash", "password.verify", "db SELECT", "db INSERT"]) {
      expect(names, name).toContain(name);
    }
    const me = spans.find((s) => s.name === "auth.me")!;
    expect(spans.filter((s) => s.parentSpanId === me.spanId && s.name.startsWith("db ")).length).toBeGreaterThan(0);
    const raw = receiver.bodies.join("\n");
    const needles = [account.email, account.password, accessToken, refreshToken, ...accessToken.split(".").slice(1), ...refreshToken.split(".")];
    for (const needle of needles) expect(raw.includes(needle), needle).toBe(false);
    expect(raw).not.toMatch(/@example\.com/);
    expect(sdkModules(imports).length).toBeGreaterThan(0);
  }, PROCESS_TIMEOUT);

  it("does not load the tracing SDK without OTEL_EXPORTER_OTLP_ENDPOINT", async () => {
    const imports = join(scratch, "imports-off.txt");
    const server = await spawnServer({ DATA_DIR: ":memory:", BCRYPT_COST: "4", NODE_OPTIONS: `--import ${RECORDER}`, RECORD_IMPORTS: imports });
    expect((await post(server.url, "auth.register", newAccount())).status).toBe(200);
    server.proc.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(sdkModules(imports)).toEqual([]);
  }, PROCESS_TIMEOUT);
});

/** A GET on its own connection, so that the cluster may hand it to any worker. */
function get(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { agent: false, headers: { connection: "close" } }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("metrics of a WEB_CONCURRENCY group", () => {
  it.runIf(onPostgres)(`answers every scrape, whichever worker takes it, with the sum of all workers${onPostgres ? "" : " (skipped: needs PostgreSQL, set TEST_DATABASE_URL)"}`, async () => {
    const server = await spawnServer({ NODE_ENV: "development", DATABASE_URL: await scratchPostgresUrl(), DATA_DIR: ":memory:", WEB_CONCURRENCY: "2", BCRYPT_COST: "4" });
    try {
      for (let waited = 0; !server.output().includes("gatehouse cluster ready"); waited += 50) {
        if (waited > 90_000) throw new Error(`cluster not ready:\n${server.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const CALLS = 20;
      for (let i = 0; i < CALLS; i++) expect((await get(server.url, "/trpc/health")).status).toBe(200);
      const servedBy = new Set(
        server.output().split("\n").filter((l) => l.includes('"msg":"request"') && l.includes('"path":"/trpc/health"')).map((l) => (JSON.parse(l) as { pid: number }).pid),
      );
      expect(servedBy.size).toBe(2);
      const single = parseSamples((await get(server.url, "/metrics")).body);
      for (let scrape = 0; scrape < 4; scrape++) {
        const { status, body } = await get(server.url, "/metrics");
        expect(status).toBe(200);
        const samples = parseSamples(body);
        expect(valueOf(samples, "gatehouse_request_duration_seconds_count", { procedure: "health", status: "200" })).toBe(CALLS);
        // Two workers' pools summed: twice what one worker has.
        expect(valueOf(samples, "gatehouse_db_pool_connections", { state: "max" })).toBe(20);
      }
      expect(valueOf(single, "gatehouse_password_hash_slots") % 2).toBe(0);
    } finally {
      server.proc.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    }
  }, PROCESS_TIMEOUT);
});
