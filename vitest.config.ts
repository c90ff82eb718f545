import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/helpers/global-setup.ts"],
    // Each file opens its own database (an in-memory PGlite takes ~3 s to boot).
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The default output, then every skipped test with the reason its name gives.
    reporters: ["default", "./tests/helpers/skip-reporter.ts"],
  },
});
