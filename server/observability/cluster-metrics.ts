/**
 * WEB_CONCURRENCY > 1: one scrape sees the whole process group. A scrape
 * lands on one worker (the cluster hands connections out in turn); that
 * worker asks the primary, which gathers every worker's registry with
 * prom-client's AggregatorRegistry and answers with the aggregate: counters
 * and histograms summed, gauges summed (pool sizes, queue depths) or
 * averaged as prom-client's defaults say (event-loop lag).
 */
import cluster from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";

const REQUEST = "gatehouse:metrics-request";
const RESPONSE = "gatehouse:metrics-response";
/** How long a worker waits for the primary's aggregate before answering 503. */
const TIMEOUT_MS = 6_000;

interface MetricsMessage {
  type: string;
  id: number;
  text?: string;
  error?: string;
}

const isMetricsMessage = (message: unknown, type: string): message is MetricsMessage =>
  typeof message === "object" && message !== null && (message as { type?: unknown }).type === type;

/** In the primary: answers the workers' requests for the group's metrics. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on("message", (worker, message: unknown) => {
    if (!isMetricsMessage(message, REQUEST)) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: RESPONSE, id: message.id, text }),
      (error: unknown) => worker.send({ type: RESPONSE, id: message.id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
}

/** In a worker: the registry the primary reads, and a way to ask for the aggregate. */
export function joinClusterMetrics(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one in a worker installs prom-client's answer to the primary's collection requests.
  new AggregatorRegistry();
  let next = 0;
  return () =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => finish(new Error("the primary did not answer with the cluster's metrics")), TIMEOUT_MS);
      const onMessage = (message: unknown) => {
        if (!isMetricsMessage(message, RESPONSE) || message.id !== id) return;
        finish(message.error === undefined ? null : new Error(message.error), message.text);
      };
      const finish = (error: Error | null, text = "") => {
        clearTimeout(timer);
        process.off("message", onMessage);
        if (error) reject(error);
        else resolve(text);
      };
      process.on("message", onMessage);
      process.send!({ type: REQUEST, id });
    });
}
