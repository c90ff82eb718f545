/**
 * The start-up line (server/startup-line.ts): one line names the URL, the
 * database, the rate-limit store, the mail transport and the panel setting,
 * warns in production on the embedded database, and never shows a credential.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../server/db/database.ts";
import { describeDatabase, describeMail, startupSummary } from "../server/startup-line.ts";
import { onPostgres, openTestDatabase } from "./helpers/database.ts";
import { testConfig, testServices } from "./helpers/services.ts";

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});

async function summaryWith(env: Record<string, string>, port = 4321) {
  const services = await testServices(db, { env });
  afterAll(() => services.close());
  return startupSummary(services, port);
}

describe("the start-up line", () => {
  it("names the URL, the database, the rate-limit store, the mail transport and the panel", async () => {
    const summary = await summaryWith({ HOST: "127.0.0.1" });
    expect(summary).toEqual({
      url: "http://127.0.0.1:4321",
      env: "test",
      database: onPostgres ? "PostgreSQL" : "PGlite (embedded, in memory)",
      rateLimits: "in-process memory (per instance)",
      mail: "development outbox (in memory)",
      panel: "on (/panel)",
    });
  });

  it("warns in production on the embedded database, and says the panel is off", async () => {
    const summary = await summaryWith({ NODE_ENV: "production", HOST: "0.0.0.0", BCRYPT_COST: "10" });
    expect(summary.url).toBe("http://localhost:4321");
    expect(summary.panel).toBe("off (PANEL=on turns it on in production)");
    expect(summary.mail).toBe("none: SMTP_URL is not set, no mail is sent");
    // The warning concerns the embedded database only (this suite also runs on PostgreSQL).
    expect(summary.warning).toBe(onPostgres ? undefined : "production on the embedded database (PGlite): set DATABASE_URL to a PostgreSQL server");
  });

  it("shows no credential of DATABASE_URL or SMTP_URL", () => {
    const config = testConfig({
      DATABASE_URL: "postgresql://gatehouse:db-secret-pw@db.example.com:5433/gatehouse",
      SMTP_URL: "smtps://mailer:smtp-secret-pw@mail.example.com",
    });
    const line = JSON.stringify([describeDatabase("postgres", config), describeMail(config)]);
    expect(line).toBe(JSON.stringify(["PostgreSQL db.example.com:5433/gatehouse", "SMTP mail.example.com:465"]));
    expect(line).not.toMatch(/secret|gatehouse:|mailer/);
  });

  it("names the embedded database's directory", () => {
    expect(describeDatabase("pglite", testConfig({ DATA_DIR: "./.data" }))).toBe("PGlite (embedded, in ./.data)");
    expect(describeMail(testConfig({ DATA_DIR: "./.data" }))).toBe("development outbox (./.data/outbox.jsonl)");
  });
});
