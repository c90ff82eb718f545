/**
 * Builds the server (the process tests run the compiled build, as `npm start` does).
 *
 * With TEST_DATABASE_URL set, the suite runs on that PostgreSQL server: one
 * migrated template database is made per run, and each test file clones it
 * (CREATE DATABASE ... TEMPLATE is much faster than migrating again). All of
 * the run's databases are dropped at the end.
 */
import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { buildServer } from "./production-server.ts";
import { createMigratedDatabase, dropDatabasesWithPrefix } from "./scratch-postgres.ts";

declare module "vitest" {
  export interface ProvidedContext {
    pgTemplate: string | null;
    runPrefix: string;
  }
}

export default async function setup(project: TestProject) {
  buildServer();
  const serverUrl = process.env.TEST_DATABASE_URL;
  const runPrefix = `gatehouse_t${randomBytes(4).toString("hex")}`;
  project.provide("runPrefix", runPrefix);
  if (!serverUrl) {
    project.provide("pgTemplate", null);
    return;
  }
  const template = `${runPrefix}_tpl`;
  await createMigratedDatabase(serverUrl, template);
  project.provide("pgTemplate", template);
  return async () => {
    await dropDatabasesWithPrefix(serverUrl, runPrefix);
  };
}
