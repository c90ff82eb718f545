/**
 * The one log line a server writes when it starts listening: where it
 * answers, and the choices the environment made (database, rate-limit store,
 * mail transport, panel), so that a misconfiguration shows at a glance.
 * Never a credential: URLs are reduced to their host, port and path.
 */
import type { Config } from "./env.ts";
import type { Services } from "./services.ts";

/** A PostgreSQL URL without its user and password. */
function postgresLocation(url: string): string {
  const parsed = new URL(url);
  return `PostgreSQL ${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`;
}

/** The database a server runs on, and where it is. */
export function describeDatabase(kind: "postgres" | "pglite", config: Pick<Config, "databaseUrl" | "dataDir">): string {
  if (kind === "postgres") return config.databaseUrl === undefined ? "PostgreSQL" : postgresLocation(config.databaseUrl);
  return config.dataDir === ":memory:" ? "PGlite (embedded, in memory)" : `PGlite (embedded, in ${config.dataDir})`;
}

/** Which transport mail takes (the choice server/mail/mailer.ts makes). */
export function describeMail(config: Pick<Config, "smtpUrl" | "production" | "dataDir">): string {
  if (config.smtpUrl !== undefined) {
    const url = new URL(config.smtpUrl);
    return `SMTP ${url.hostname}:${url.port || (url.protocol === "smtps:" ? "465" : "587")}`;
  }
  if (config.production) return "none: SMTP_URL is not set, no mail is sent";
  return config.dataDir === ":memory:" ? "development outbox (in memory)" : `development outbox (${config.dataDir}/outbox.jsonl)`;
}

/** The fields of the start-up line. */
export function startupSummary(services: Pick<Services, "config" | "limits" | "db">, port: number): Record<string, string> {
  const { config } = services;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    env: config.nodeEnv,
    database: describeDatabase(services.db.kind, config),
    ...(config.production && services.db.kind === "pglite"
      ? { warning: "production on the embedded database (PGlite): set DATABASE_URL to a PostgreSQL server" }
      : {}),
    rateLimits: services.limits.store() === "redis" ? "Redis (shared by every instance)" : "in-process memory (per instance)",
    mail: describeMail(config),
    panel: config.panel ? `on (/panel)` : "off (PANEL=on turns it on in production)",
  };
}
