/**
 * Traces (OpenTelemetry): off unless OTEL_EXPORTER_OTLP_ENDPOINT is set, and
 * then the SDK is loaded (server/observability/otel.ts); off, not one of its
 * modules is imported and every hook below is absent, not a no-op on the hot path.
 *
 * On: one span per HTTP request, named by its procedure (or route), with child
 * spans for each database statement and each password hash or verification.
 * Attributes are fixed, chosen names whose values come from bounded sets or
 * from the server itself (procedure, route, status, appCode, SQL keyword):
 * never a header, a query string, an input, a token or an email.
 */
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import type { Config } from "../env.ts";

export type { RequestSpan, SpanAttributes, Tracing } from "./otel.ts";
import type { Tracing } from "./otel.ts";

interface TracingOptions {
  /** Where spans go instead of OTLP (tests: an in-memory exporter); spans are then exported one by one, at once. */
  exporter?: SpanExporter;
}

/** The tracer when tracing is on (an endpoint, or a test's exporter), else null. */
export async function startTracing(
  config: Pick<Config, "otlpEndpoint" | "otelServiceName">,
  options: TracingOptions = {},
): Promise<Tracing | null> {
  if (config.otlpEndpoint === undefined && options.exporter === undefined) return null;
  const { createTracing } = await import("./otel.ts");
  return createTracing(config, options.exporter);
}
