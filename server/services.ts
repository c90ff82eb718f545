/**
 * The long-lived pieces one server process is built from, created once at
 * start-up and shared by every request through the tRPC context.
 */
import { AccessTokens } from "./sessions/access-token.ts";
import type { AuthDeps } from "./deps.ts";
import { PasswordHasher } from "./passwords/hasher.ts";
import { followPrevailingCost } from "./passwords/prevailing-cost.ts";
import { BackgroundTasks } from "./background.ts";
import { openDatabase, type Database } from "./db/database.ts";
import type { Config } from "./env.ts";
import { createLimits, type Limits } from "./limits/limits.ts";
import { createLogger, type Logger } from "./log.ts";
import { createMailer } from "./mail/mailer.ts";
import type { Mailer } from "./mail/types.ts";
import { resolveJwtSecret } from "./secrets/jwt-secret.ts";
import { resolveSealer, type Sealer } from "./secrets/sealer.ts";
import { Keyring, keyTimings } from "./keys/keyring.ts";
import { ensureSigningKey } from "./keys/rotation.ts";
import { LiveEventHub } from "./events/hub.ts";
import { Observability } from "./observability/observability.ts";
import { DEFAULT_RETRY_BASE_MS } from "./webhooks/schedule.ts";
import type { Resolve, TargetPolicy } from "./webhooks/target.ts";
import { webhookBacklog } from "./webhooks/outbox.ts";
import { WebhookWorker } from "./webhooks/worker.ts";
import { startTracing } from "./observability/tracing.ts";
import { createOAuthProviders } from "./oauth/providers.ts";
import type { OAuthProvider } from "./oauth/provider.ts";
import type { SpanExporter } from "@opentelemetry/sdk-trace";

export interface Services extends AuthDeps {
  config: Config;
  log: Logger;
  db: Database;
  /** Outgoing mail (docs/API.md): SMTP, the development outbox, or nothing in production without SMTP_URL. */
  mailer: Mailer;
  /** Work kept off the response path (mail hand-off); `close()` waits for it. */
  background: BackgroundTasks;
  /** Abuse limits: auth calls per IP, failed logins per email (in memory, or Redis with REDIS_URL). */
  limits: Limits;
  /** Seals secrets at rest with ENCRYPTION_KEY (AES-256-GCM). */
  sealer: Sealer;
  /** REFRESH_REUSE_GRACE in seconds (0: off). */
  refreshReuseGrace: number;
  /** Asymmetric signing keys (JWT_ALG=ES256/RS256) and the JWKS, refreshed from the database. */
  keyring: Keyring;
  /** `auth.events` subscribers of this instance, fed by LISTEN/NOTIFY. */
  events: LiveEventHub;
  /** Where webhooks may be sent: private, loopback and link-local targets only outside production. */
  webhookPolicy: TargetPolicy;
  /** Name resolution for webhook targets (tests resolve names of their own); unset: the system's. */
  resolveHost?: Resolve;
  /** Delivers webhooks from the outbox; started by `main.ts` (and by tests that deliver), stopped by `close()`. */
  webhooks: WebhookWorker;
  /** Metrics (`GET /metrics`) and, with OTEL_EXPORTER_OTLP_ENDPOINT, traces. */
  observability: Observability;
  /** Sign-in providers by name (OAUTH_PROVIDERS): OpenID Connect discovery, GitHub and Google presets. */
  oauth: ReadonlyMap<string, OAuthProvider>;
  /** Waits for background work, then releases what the services hold (mail, the database), once requests are done. */
  close(): Promise<void>;
}

export interface CreateServicesOptions {
  log?: Logger;
  /** An already open database (tests share one per file); it is not closed by `close()`. */
  db?: Database;
  now?: () => Date;
  /** A mail transport to use instead of the configured one (tests). */
  mailer?: Mailer;
  /** Called as each password verification starts (tests count verifications with it). */
  onPasswordVerify?: () => void;
  /** How often the signing keys are re-read, in ms (default: server/keys/keyring.ts `keyTimings`). */
  keyRefreshMs?: number;
  /** Where spans go instead of OTLP; turns tracing on (tests: an in-memory exporter). */
  traceExporter?: SpanExporter;
  /** Delay before a webhook's first retry, in ms (tests: a few ms; default server/webhooks/schedule.ts). */
  webhookRetryBaseMs?: number;
  /** Name resolution for webhook targets (tests map names of their own to addresses). */
  resolveHost?: Resolve;
}

/** Builds the services for a configuration, opening and migrating the database. */
export async function createServices(config: Config, options: CreateServicesOptions = {}): Promise<Services> {
  const log = options.log ?? createLogger(config);
  const secret = resolveJwtSecret(config, log);
  const tracing = await startTracing(config, { exporter: options.traceExporter });
  const traceQuery = tracing ? <T,>(operation: string, work: () => Promise<T>) =>
    tracing.span(`db ${operation}`, { "db.system.name": "postgresql", "db.operation.name": operation }, work) : undefined;
  const db =
    options.db ??
    (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log, traceQuery }));
  const ownsDb = options.db === undefined;
  const now = options.now ?? (() => new Date());
  const mailer = options.mailer ?? createMailer(config, log, now);
  const background = new BackgroundTasks(log);
  const limits = await createLimits(config, log);
  if (config.production && db.kind === "pglite") {
    // Refusing would break `NODE_ENV=production npm start` trials; a loud line instead.
    log.warn(
      "PRODUCTION ON THE EMBEDDED DATABASE (PGlite): one process, data in DATA_DIR on this machine, no replication or managed backups. Set DATABASE_URL to a PostgreSQL server for a real deployment",
    );
  }
  const sealer = resolveSealer(config, log);
  const keyring = new Keyring({ prisma: db.prisma, sealer, now, log }, config.jwtAlg === "HS256" ? null : config.jwtAlg);
  await ensureSigningKey({ prisma: db.prisma, sealer, now, keyring }, config.accessTokenTtl);
  keyring.start(options.keyRefreshMs ?? keyTimings(config.accessTokenTtl).refreshSeconds * 1000);
  const events = new LiveEventHub({ db, log, now }, { maxSubscribers: config.eventsMaxSubscribers, maxPerUser: config.eventsMaxPerUser });
  await events.start();
  const passwords = new PasswordHasher({
    cost: config.bcryptCost,
    queueMax: config.passwordQueueMax,
    trace: tracing ? (name, work) => tracing.span(name, {}, work) : undefined,
    onVerify: options.onPasswordVerify,
  });
  const observability = new Observability(
    {
      hasherLoad: () => passwords.load,
      poolStats: () => db.poolStats(),
      limitStore: () => limits.store(),
      webhookBacklog: () => webhookBacklog(db.prisma),
    },
    tracing,
  );
  const stopFollowingCost = await followPrevailingCost({ db, passwords, log });
  // Development and tests post to local receivers; production only to public addresses (server/webhooks/target.ts).
  const webhookPolicy: TargetPolicy = { allowPrivate: !config.production };
  const webhooks = new WebhookWorker(
    { prisma: db.prisma, db, sealer, log, now },
    {
      pollMs: config.webhookPollMs,
      timeoutMs: config.webhookTimeoutMs,
      concurrency: config.webhookConcurrency,
      retryBaseMs: options.webhookRetryBaseMs ?? DEFAULT_RETRY_BASE_MS,
      policy: webhookPolicy,
      resolve: options.resolveHost,
    },
  );
  return {
    config,
    log,
    db,
    mailer,
    background,
    limits,
    sealer,
    keyring,
    events,
    webhookPolicy,
    resolveHost: options.resolveHost,
    webhooks,
    observability,
    oauth: createOAuthProviders(config, log, now),
    prisma: db.prisma,
    passwords,
    accessTokens: new AccessTokens({ secret, keyring, ttlSeconds: config.accessTokenTtl }),
    refreshTokenTtl: config.refreshTokenTtl,
    sessionMaxAge: config.sessionMaxAge,
    refreshReuseGrace: config.refreshReuseGrace,
    now,
    async close() {
      stopFollowingCost();
      keyring.stop();
      await events.close();
      // Attempts in flight are finished and recorded; a delivery not yet claimed waits in the outbox.
      await webhooks.stop();
      // Background work may still write to the database and hand mail to the transport.
      await background.drain();
      await mailer.close?.();
      await limits.close();
      if (ownsDb) await db.close();
      await tracing?.shutdown();
    },
  };
}
