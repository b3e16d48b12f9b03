// The region workers' own figures for /metrics: each worker publishes a summary every few seconds
// (protocol/worker-stats.ts); the api keeps the latest one per worker and, at each scrape, adds
// them up per region into prom-client metrics. A worker silent for longer than STALE_MS has stopped
// and no longer counts.
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { Counter, Gauge, type Metric, type Registry } from "prom-client";
import { decode } from "../../protocol/codec.js";
import { subjects } from "../../protocol/subjects.js";
import { WEBHOOK_BUCKETS, type WorkerStats, WorkerStatsSchema } from "../../protocol/worker-stats.js";

const STALE_MS = 30_000;

export class WorkerMetrics {
  readonly #latest = new Map<string, WorkerStats>();
  readonly #sub: Subscription;

  constructor(nc: NatsConnection) {
    this.#sub = nc.subscribe(subjects().allWorkerStats(), {
      callback: (err, msg) => {
        if (err) return;
        try {
          const stats = WorkerStatsSchema.safeParse(decode(msg.data));
          if (stats.success) this.#latest.set(`${stats.data.region}/${stats.data.worker}`, stats.data);
        } catch {
          // A malformed stats message is dropped; /metrics shows what the others said.
        }
      },
    });
  }

  /** The workers' metrics, registered in `registry`; each scrape reads the latest stats. */
  register(registry: Registry): void {
    const live = () => [...this.#latest.values()].filter((s) => Date.now() - s.at <= STALE_MS);
    const registers = [registry];
    new Gauge({
      name: "switchboard_active_actors",
      help: "Live call actors hosted by the region's workers.",
      labelNames: ["region"],
      registers,
      collect() {
        this.reset();
        for (const s of live()) this.inc({ region: s.region }, s.liveCalls);
      },
    });
    new Gauge({
      name: "switchboard_live_calls",
      help: "Live calls by the call machine's top-level state.",
      labelNames: ["region", "state"],
      registers,
      collect() {
        this.reset();
        for (const s of live()) {
          for (const [state, n] of Object.entries(s.byState)) this.inc({ region: s.region, state }, n);
        }
      },
    });
    // A counter summed from the workers' own: it is reset and re-added on every scrape.
    new Counter({
      name: "switchboard_worker_calls_total",
      help: "Calls the region's workers received, started, ended, refused or expired.",
      labelNames: ["region", "event"],
      registers,
      collect() {
        this.reset();
        for (const s of live()) {
          for (const [event, n] of Object.entries(s.counters)) this.inc({ region: s.region, event }, n);
        }
      },
    });
    registry.registerMetric(
      summedHistogram(
        "switchboard_webhook_duration_seconds",
        "Time for a webhook to answer, as the region's workers saw it.",
        () => live().map((s) => ({ labels: { region: s.region }, ...s.webhook })),
      ),
    );
  }

  close(): void {
    this.#sub.unsubscribe();
  }
}

interface Counted {
  labels: Record<string, string>;
  /** Per bucket of WEBHOOK_BUCKETS, not cumulative. */
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * A histogram whose buckets arrive already counted, by several workers, and are summed per label
 * set. prom-client's Histogram can only observe single values, so this is the registry's metric
 * shape (name, help, type, get) filled in from the counts; prom-client renders it like any other.
 */
function summedHistogram(name: string, help: string, read: () => Counted[]): Metric {
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    reset() {},
    async get() {
      const byLabels = new Map<string, Counted>();
      for (const c of read()) {
        const key = JSON.stringify(c.labels);
        const total = byLabels.get(key) ?? {
          labels: c.labels,
          buckets: WEBHOOK_BUCKETS.map(() => 0),
          sum: 0,
          count: 0,
        };
        c.buckets.forEach((n, i) => {
          total.buckets[i] = (total.buckets[i] ?? 0) + n;
        });
        total.sum += c.sum;
        total.count += c.count;
        byLabels.set(key, total);
      }
      const values = [...byLabels.values()].flatMap((h) => {
        let cumulative = 0;
        return [
          ...WEBHOOK_BUCKETS.map((le, i) => {
            cumulative += h.buckets[i] ?? 0;
            return { metricName: `${name}_bucket`, labels: { ...h.labels, le }, value: cumulative };
          }),
          { metricName: `${name}_bucket`, labels: { ...h.labels, le: "+Inf" }, value: h.count },
          { metricName: `${name}_sum`, labels: h.labels, value: h.sum },
          { metricName: `${name}_count`, labels: h.labels, value: h.count },
        ];
      });
      return { name, help, type: "histogram", aggregator: "sum", values };
    },
  };
  return metric as unknown as Metric;
}
