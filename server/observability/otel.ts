/**
 * The OpenTelemetry SDK behind server/observability/tracing.ts, imported only
 * when tracing is on. Spans go to `${OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`
 * (OTLP over HTTP, JSON), batched off the response path.
 */
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, SimpleSpanProcessor, TracerProvider, type SpanExporter } from "@opentelemetry/sdk-trace";
import type { Config } from "../env.ts";

export type SpanAttributes = Record<string, string | number | boolean>;

/** A request span, ended once the answer is sent. */
export interface RequestSpan {
  end(status: number, attributes: SpanAttributes): void;
}

/** What the rest of the server sees of the tracer (through server/observability/tracing.ts). */
export interface Tracing {
  /** Starts a request span and runs `handle` with it as the active span. */
  request(name: string, attributes: SpanAttributes, handle: () => void): RequestSpan;
  /** Runs `work` inside a child span of the active one. */
  span<T>(name: string, attributes: SpanAttributes, work: () => Promise<T>): Promise<T>;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

/** Child spans follow their request through promises and callbacks (AsyncLocalStorage). */
let contextManagerSet = false;

export function createTracing(config: Pick<Config, "otlpEndpoint" | "otelServiceName">, testExporter?: SpanExporter): Tracing {
  if (!contextManagerSet) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    contextManagerSet = true;
  }
  const processor = testExporter
    ? new SimpleSpanProcessor({ exporter: testExporter })
    : new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${config.otlpEndpoint!.replace(/\/+$/, "")}/v1/traces` }) });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": config.otelServiceName }),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer("gatehouse");

  return {
    request(name, attributes, handle) {
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, context.active());
      context.with(trace.setSpan(context.active(), span), handle);
      return {
        end(status, more) {
          span.setAttributes({ ...more, "http.response.status_code": status });
          if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        },
      };
    },
    async span(name, attributes, work) {
      const parent = context.active();
      const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
      try {
        return await context.with(trace.setSpan(parent, span), work);
      } catch (error) {
        // The error's class only: its message may quote an input.
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute("error.type", error instanceof Error ? error.name : "unknown");
        throw error;
      } finally {
        span.end();
      }
    },
    shutdown: () => provider.shutdown(),
  };
}
