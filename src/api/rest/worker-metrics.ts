// The region workers' own figures for /metrics: each worker publishes a summary every few seconds
// (protocol/worker-stats.ts); the api keeps the latest one per worker and adds them up per region.
// A worker silent for longer than STALE_MS has stopped and no longer counts.
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
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

  lines(label: (values: Record<string, string>) => string): string[] {
    const now = Date.now();
    const live = [...this.#latest.values()].filter((s) => now - s.at <= STALE_MS);
    const sum = (key: string, by: Map<string, number>, n: number) => by.set(key, (by.get(key) ?? 0) + n);
    const actors = new Map<string, number>();
    const states = new Map<string, number>();
    const counters = new Map<string, number>();
    const hist = new Map<string, { buckets: number[]; sum: number; count: number }>();
    for (const s of live) {
      sum(s.region, actors, s.liveCalls);
      for (const [state, n] of Object.entries(s.byState)) sum(`${s.region}\u0000${state}`, states, n);
      for (const [event, n] of Object.entries(s.counters)) sum(`${s.region}\u0000${event}`, counters, n);
      const h = hist.get(s.region) ?? { buckets: WEBHOOK_BUCKETS.map(() => 0), sum: 0, count: 0 };
      s.webhook.buckets.forEach((n, i) => {
        h.buckets[i] = (h.buckets[i] ?? 0) + n;
      });
      h.sum += s.webhook.sum;
      h.count += s.webhook.count;
      hist.set(s.region, h);
    }
    const split = (key: string) => key.split("\u0000") as [string, string];
    const out = [
      "# HELP switchboard_active_actors Live call actors hosted by the region's workers.",
      "# TYPE switchboard_active_actors gauge",
      ...[...actors].map(([region, n]) => `switchboard_active_actors{${label({ region })}} ${n}`),
      "# HELP switchboard_live_calls Live calls by the call machine's top-level state.",
      "# TYPE switchboard_live_calls gauge",
      ...[...states].map(([k, n]) => {
        const [region, state] = split(k);
        return `switchboard_live_calls{${label({ region, state })}} ${n}`;
      }),
      "# HELP switchboard_worker_calls_total Calls the region's workers received, started, ended, refused or expired.",
      "# TYPE switchboard_worker_calls_total counter",
      ...[...counters].map(([k, n]) => {
        const [region, event] = split(k);
        return `switchboard_worker_calls_total{${label({ region, event })}} ${n}`;
      }),
      "# HELP switchboard_webhook_duration_seconds Time for a webhook to answer, as the region's workers saw it.",
      "# TYPE switchboard_webhook_duration_seconds histogram",
    ];
    for (const [region, h] of hist) {
      let cumulative = 0;
      WEBHOOK_BUCKETS.forEach((le, i) => {
        cumulative += h.buckets[i] ?? 0;
        out.push(
          `switchboard_webhook_duration_seconds_bucket{${label({ region, le: String(le) })}} ${cumulative}`,
        );
      });
      out.push(`switchboard_webhook_duration_seconds_bucket{${label({ region, le: "+Inf" })}} ${h.count}`);
      out.push(`switchboard_webhook_duration_seconds_sum{${label({ region })}} ${h.sum}`);
      out.push(`switchboard_webhook_duration_seconds_count{${label({ region })}} ${h.count}`);
    }
    return out;
  }

  close(): void {
    this.#sub.unsubscribe();
  }
}
