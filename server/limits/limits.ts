/**
 * The abuse limits one server process enforces (docs/API.md):
 * public auth mutations per client IP, and failed logins per email. With
 * REDIS_URL the counters live in Redis and hold across instances.
 */
import type { Redis } from "ioredis";
import type { Config } from "../env.ts";
import type { Logger } from "../log.ts";
import { LoginLockout } from "./login-lockout.ts";
import { MailThrottle } from "./mail-throttle.ts";
import { RateLimit } from "./rate-limit.ts";
import { createReservations } from "./reservations.ts";
import { createRedisClient, waitUntilReady } from "./redis.ts";

/** How long start-up waits for Redis before serving with in-process counters. */
const REDIS_START_TIMEOUT_MS = 2_000;

export { clientKey } from "./client-key.ts";

export interface Limits {
  /** AUTH_RATE_LIMIT_PER_MINUTE: public auth mutations per client IP (`authCalls.consume(clientKey(ip))`). */
  authCalls: RateLimit;
  /** LOGIN_MAX_FAILURES / LOGIN_EMAIL_MAX_FAILURES / LOGIN_LOCKOUT: failed secret checks per email. */
  loginLockout: LoginLockout;
  /** MAIL_PER_MINUTE / MAIL_PER_HOUR: account mail per recipient and per user. */
  mail: MailThrottle;
  /** Where the counters are kept right now. */
  store(): "memory" | "redis" | "memory-fallback";
  /** Closes the Redis connection, if any. */
  close(): Promise<void>;
}

/** Builds the limits for a configuration; connects to Redis when REDIS_URL is set. */
export async function createLimits(config: Config, log: Logger): Promise<Limits> {
  let redis: Redis | null = null;
  if (config.redisUrl !== undefined) {
    redis = await createRedisClient(config.redisUrl, log);
    // Errors are reported through the client's 'error' event; it keeps retrying.
    redis.connect().catch(() => {});
    await waitUntilReady(redis, REDIS_START_TIMEOUT_MS);
  }
  const prefix = config.redisKeyPrefix;
  const authCalls = new RateLimit(
    createReservations({ keyPrefix: `${prefix}ip`, points: config.authRateLimitPerMinute, duration: 60 }, redis),
  );
  const loginLockout = new LoginLockout(
    createReservations({ keyPrefix: `${prefix}login`, points: config.loginMaxFailures, duration: config.loginLockout }, redis),
    createReservations({ keyPrefix: `${prefix}login-email`, points: config.loginEmailMaxFailures, duration: config.loginLockout }, redis),
    { maxFailures: config.loginMaxFailures, emailMaxFailures: config.loginEmailMaxFailures, lockoutSeconds: config.loginLockout },
  );
  const mail = new MailThrottle(
    createReservations({ keyPrefix: `${prefix}mail-minute`, points: config.mailPerMinute, duration: 60 }, redis),
    createReservations({ keyPrefix: `${prefix}mail-hour`, points: config.mailPerHour, duration: 3600 }, redis),
  );
  return {
    authCalls,
    loginLockout,
    mail,
    store: () => (redis === null ? "memory" : redis.status === "ready" ? "redis" : "memory-fallback"),
    async close() {
      // disconnect() also stops reconnection attempts, so nothing keeps the process alive.
      redis?.disconnect();
    },
  };
}
