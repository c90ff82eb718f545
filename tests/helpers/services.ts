/** Services for tests: a real database, low bcrypt cost by configuration, an injectable clock. */
import { parseEnv, type Config } from "../../server/env.ts";
import { createServices, type CreateServicesOptions, type Services } from "../../server/services.ts";
import type { Database } from "../../server/db/database.ts";
import type { Logger } from "../../server/log.ts";
import { afterEach, beforeAll, beforeEach } from "vitest";
import { openTestDatabase, resetDatabase, silentLog } from "./database.ts";

export const TEST_SECRET = "test-secret-that-is-at-least-32-bytes-long!!";
/** ENCRYPTION_KEY for tests (production configurations need one while REFRESH_REUSE_GRACE is on). */
const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 0x5a).toString("base64");

/** A configuration for tests; override any variable by its variable name. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return parseEnv({
    NODE_ENV: "test",
    JWT_SECRET: TEST_SECRET,
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    BCRYPT_COST: "4",
    DATA_DIR: ":memory:",
    LOG_LEVEL: "silent",
    // Suites call many public mutations from one fake IP; the limit tests set these low.
    AUTH_RATE_LIMIT_PER_MINUTE: "1000000",
    LOGIN_MAX_FAILURES: "1000",
    // Tests that switch to production keep the default http://localhost APP_URL;
    // tests/env.test.ts checks the production rule itself with parseEnv.
    ALLOW_INSECURE_APP_URL: "on",
    // Suites send many mails to one address; tests/mail-throttle.test.ts sets these low.
    MAIL_PER_MINUTE: "10000",
    MAIL_PER_HOUR: "100000",
    ...overrides,
  });
}

/** A clock the test moves by hand. */
export class TestClock {
  #now: number;
  constructor(start = new Date()) {
    this.#now = start.getTime();
  }
  now = (): Date => new Date(this.#now);
  advance(seconds: number): void {
    this.#now += seconds * 1000;
  }
}

/** Services on the given database. */
export function testServices(
  db: Database,
  options: { env?: Record<string, string>; clock?: TestClock; log?: Logger; onPasswordVerify?: () => void } & Pick<
    CreateServicesOptions,
    "webhookRetryBaseMs" | "resolveHost"
  > = {},
): Promise<Services> {
  return createServices(testConfig(options.env), {
    db,
    log: options.log ?? silentLog,
    now: options.clock?.now,
    onPasswordVerify: options.onPasswordVerify,
    webhookRetryBaseMs: options.webhookRetryBaseMs,
    resolveHost: options.resolveHost,
  });
}

/** What `useServices` hands each test. */
export interface FreshServices {
  db: Database;
  services: Services;
  clock: TestClock;
}

/**
 * The setup that caller-based test files share: the file's test database,
 * emptied before each test, then fresh services on a TestClock that starts at
 * `start` (default: now), with `env` over the test configuration; `use`
 * receives them before each test. Background work is drained after each test:
 * mail or events still being written when the next test truncates the tables
 * would deadlock it.
 */
export function useServices(options: { start?: string; env?: Record<string, string> }, use: (fresh: FreshServices) => void): void {
  let db: Database;
  let services: Services | undefined;
  beforeAll(async () => {
    db = await openTestDatabase();
  });
  beforeEach(async () => {
    await resetDatabase(db);
    const clock = new TestClock(options.start === undefined ? undefined : new Date(options.start));
    services = await testServices(db, { clock, env: options.env });
    use({ db, services, clock });
  });
  afterEach(() => services?.background.drain());
}
