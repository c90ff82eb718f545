/**
 * The Redis connection behind shared rate-limit counters. Redis is an
 * optimisation of the limits, never a dependency of the service: the client
 * fails fast instead of queueing (callers fall back to in-process counters),
 * reconnects by itself forever, and logs each outage once, not each retry.
 * ioredis is loaded only when REDIS_URL asks for it (~15 MB of memory otherwise).
 */
import type { Redis } from "ioredis";
import type { Logger } from "../log.ts";

/** Longest pause between reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 2_000;

/** A Redis client that never throws at the process and reports its state changes. */
export async function createRedisClient(url: string, log: Logger): Promise<Redis> {
  const { Redis } = await import("ioredis");
  const client = new Redis(url, {
    // Connect when we say so (createLimits), not in the constructor.
    lazyConnect: true,
    // Commands while disconnected fail at once instead of waiting in a queue:
    // a login must not hang because Redis did.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1_000,
    // A Redis that accepts but does not answer is as good as gone.
    commandTimeout: 500,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
  });
  let available: boolean | null = null;
  // Without an 'error' listener ioredis would rethrow connection errors as
  // unhandled 'error' events and crash the process.
  client.on("error", (error: Error) => {
    if (available === false) return;
    available = false;
    // The URL is never logged: it may carry a password.
    log.warn({ err: error.message }, "redis unavailable: rate limits fall back to in-process counters");
  });
  client.on("close", () => {
    if (available !== true) return;
    available = false;
    log.warn("redis connection lost: rate limits fall back to in-process counters");
  });
  client.on("ready", () => {
    if (available === false) log.info("redis available again: rate limits shared through redis");
    available = true;
  });
  return client;
}

/** Waits until the client is ready, at most `timeoutMs`; false when it is not. */
export async function waitUntilReady(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === "ready") return true;
  return new Promise<boolean>((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      client.off("ready", onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    timer.unref();
    client.on("ready", onReady);
  });
}
