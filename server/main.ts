/**
 * The process entry point: load configuration, build the services and the
 * server, listen, and shut down cleanly on SIGTERM/SIGINT. With
 * WEB_CONCURRENCY > 1 this process becomes the cluster primary and each
 * worker runs the rest of this file (server/cluster.ts).
 */
import cluster from "node:cluster";
import { runPrimary } from "./cluster.ts";
import { loadEnvOrExit } from "./env.ts";
import { createServer } from "./http/server.ts";
import { createLogger } from "./log.ts";
import { createServices } from "./services.ts";
import { startupSummary } from "./startup-line.ts";

/** How long in-flight requests may take to finish after a shutdown signal. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  const config = loadEnvOrExit();
  const log = createLogger(config);
  if (config.webConcurrency > 1 && cluster.isPrimary) {
    runPrimary(config, log);
    return;
  }
  const services = await createServices(config, { log });
  const server = createServer(services);
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const summary = startupSummary(services, port);
    if (summary.warning) log.warn(summary, "gatehouse listening");
    else log.info(summary, "gatehouse listening");
  });
  // Every instance delivers webhooks; the outbox's claims keep each attempt on one of them.
  await services.webhooks.start();

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: finishing requests in flight");
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    force.unref();
    server.close(async () => {
      await services.close();
      log.info("stopped");
      process.exit(0);
    });
    // Keep-alive connections would hold close() open once their request is done.
    server.closeIdleConnections();
    setInterval(() => server.closeIdleConnections(), 100).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  console.error("gatehouse failed to start:", error instanceof Error ? error.message : error);
  process.exit(1);
});
