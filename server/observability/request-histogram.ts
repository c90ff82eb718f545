/**
 * The request-duration histogram, kept in plain arrays and handed to
 * prom-client's registry as a metric object (`get()` in prom-client's own
 * shape, which its text output and its cluster aggregation both read).
 *
 * Why not prom-client's `Histogram`: its `observe` validates and hashes the
 * labels on every call, about a microsecond, on every request of the hot
 * path; this one finds its series once per label pair and then only counts
 * (bench row "metrics hook on one auth.me").
 */
import type { Metric, Registry } from "prom-client";

interface Series {
  labels: Record<string, string>;
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  buckets: number[];
  sum: number;
  count: number;
}

export class RequestHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, Series>();

  constructor(options: { name: string; help: string; buckets: readonly number[]; registers: Registry[] }) {
    this.name = options.name;
    this.help = options.help;
    this.#bounds = options.buckets;
    for (const registry of options.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** One observation for a procedure (or route) and status. */
  observe(procedure: string, status: number, seconds: number): void {
    const key = `${procedure} ${status}`;
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { labels: { procedure, status: String(status) }, buckets: new Array<number>(this.#bounds.length + 1).fill(0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    let bucket = 0;
    while (bucket < this.#bounds.length && seconds > this.#bounds[bucket]!) bucket++;
    series.buckets[bucket]!++;
    series.sum += seconds;
    series.count++;
  }

  /** The metric as prom-client's registry reads it. */
  get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const series of this.#series.values()) {
      let cumulative = 0;
      this.#bounds.forEach((le, index) => {
        cumulative += series.buckets[index]!;
        values.push({ labels: { ...series.labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...series.labels, le: "+Inf" }, value: series.count, metricName: `${this.name}_bucket` });
      values.push({ labels: series.labels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: series.labels, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
