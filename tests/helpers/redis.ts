/**
 * Redis for the tests that need it: REDIS_URL_FOR_TESTS (set by .ci/run), or a
 * local Redis on the default port if one answers. Each test file gets its own
 * key prefix and deletes its keys afterwards.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll } from "vitest";

const DEFAULT_URL = "redis://127.0.0.1:6379";

/** The Redis URL to test against, or null (with the reason logged) when none answers. */
export async function reachableRedis(): Promise<string | null> {
  const url = process.env.REDIS_URL_FOR_TESTS || DEFAULT_URL;
  const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
    return url;
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}

/** A key prefix of its own for this test file; its keys are deleted after the file. */
export function redisKeyPrefix(url: string): string {
  const prefix = `gatehouse-test:${randomBytes(4).toString("hex")}:`;
  afterAll(async () => {
    const client = new Redis(url, { maxRetriesPerRequest: 1 });
    client.on("error", () => {});
    try {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
    } finally {
      client.disconnect();
    }
  });
  return prefix;
}

/** A plain client on the test Redis, closed after the file. */
export function redisClient(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on("error", () => {});
  afterAll(() => client.disconnect());
  return client;
}

/** `reachableRedis()`, except that under CI=true a missing Redis fails the file instead of skipping it. */
export async function reachableRedisOrFailInCi(): Promise<string | null> {
  const url = await reachableRedis();
  if (url === null && process.env.CI === "true") {
    throw new Error(`CI=true: no Redis answers at ${process.env.REDIS_URL_FOR_TESTS || DEFAULT_URL}`);
  }
  return url;
}
