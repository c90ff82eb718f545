/**
 * SIGTERM under load (docs/API.md): every request that reached the
 * server completes, new connections are refused at once, the database is
 * closed and the process exits 0.
 */
import { request } from "node:http";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { newAccount } from "./helpers/caller.ts";
import { dataOf, mutate } from "./helpers/http.ts";
import { TEST_SECRET } from "./helpers/services.ts";
import { spawnServer } from "./helpers/production-server.ts";

interface Sent {
  /** Resolves once the TCP connection is up and the whole request is written. */
  written: Promise<void>;
  /** The status, or the socket error's code. */
  answer: Promise<number | string>;
}

/** A request on a connection of its own (no pool), so the test knows when it is connected and written. */
function send(port: number, method: "GET" | "POST", path: string, body?: unknown): Sent {
  const payload = body === undefined ? "" : JSON.stringify({ json: body });
  let written!: () => void;
  const writtenPromise = new Promise<void>((resolve) => (written = resolve));
  const answer = new Promise<number | string>((resolve) => {
    const req = request(
      { host: "127.0.0.1", port, path, method, agent: false, headers: method === "POST" ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {} },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end(payload, () => written());
  });
  return { written: writtenPromise, answer };
}

/** Whether a fresh TCP connection to the port is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("SIGTERM during load", () => {
  // A process of its own boots a database and hashes at cost 10: on a loaded
  // machine that alone approaches the 30 s default, so it gets more.
  it("finishes every request that reached the server, refuses new connections, and exits 0", { timeout: 90_000 }, async () => {
    // bcrypt at cost 10 with one hash per core keeps 20 logins in flight for a second or more.
    const server = await spawnServer({
      DATA_DIR: ":memory:",
      JWT_SECRET: TEST_SECRET,
      BCRYPT_COST: "10",
      AUTH_RATE_LIMIT_PER_MINUTE: "1000",
    });
    const port = Number(new URL(server.url).port);
    const account = newAccount();
    dataOf(await mutate(server.url, "auth.register", account));

    const logins = Array.from({ length: 20 }, () => send(port, "POST", "/trpc/auth.login", { email: account.email, password: account.password }));
    await Promise.all(logins.map((l) => l.written));
    // Connections are accepted in the order they were made: once this later
    // one is answered, the logins' connections are all in the process. (A
    // connection still in the kernel's accept queue when the listener closes
    // is reset by the kernel; no server can answer it and refuse new ones.)
    expect(await send(port, "GET", "/healthz").answer).toBe(200);
    server.proc.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stillRunning = server.proc.exitCode === null;
    const acceptedAfterSignal = await accepts(port);

    const answers = await Promise.all(logins.map((l) => l.answer));
    expect(answers).toEqual(Array(20).fill(200));
    expect(stillRunning).toBe(true);
    expect(acceptedAfterSignal).toBe(false);
    expect(await server.exited).toBe(0);
    expect(server.output()).toMatch(/"msg":"stopped"/);
    expect(server.output()).not.toMatch(/"level":(50|60)/);
  });
});
