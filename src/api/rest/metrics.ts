// /metrics in Prometheus' text format, from what the api sees cheaply: stored calls by final status
// per region, counted by the server from the call index (a filtered consumer's pending count, no
// key is transferred), the api's own requests, and what the region workers publish about their live
// calls and webhooks (worker-metrics.ts).
import { AckPolicy, DeliverPolicy } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { FastifyInstance } from "fastify";
import { CALL_STATUSES } from "./calls.js";
import type { RestContext } from "./context.js";
import { WorkerMetrics } from "./worker-metrics.js";

const INDEX_STREAM_PREFIX = "KV_sb_call_index_";
/** Scrapes within this long of the last count reuse it: counting costs a few JetStream requests. */
const COUNT_TTL_MS = 5_000;
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class ApiMetrics {
  readonly #requests = new Map<string, number>();
  readonly #latency = new Map<string, { buckets: number[]; sum: number; count: number }>();
  #counted: { at: number; lines: Promise<string[]> } | undefined;
  readonly #workers: WorkerMetrics;

  constructor(private readonly ctx: RestContext) {
    this.#workers = new WorkerMetrics(ctx.nc);
  }

  /** Counts every request answered in `app`'s scope. */
  watch(app: FastifyInstance): void {
    app.addHook("onClose", async () => this.#workers.close());
    app.addHook("onResponse", async (req, reply) => {
      const route = req.routeOptions.url ?? "unmatched";
      const key = labels({ method: req.method, route, code: String(reply.statusCode) });
      this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
      const seconds = reply.elapsedTime / 1000;
      const l = labels({ method: req.method, route });
      const h = this.#latency.get(l) ?? { buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
      LATENCY_BUCKETS.forEach((le, i) => {
        if (seconds <= le) h.buckets[i] = (h.buckets[i] ?? 0) + 1;
      });
      h.sum += seconds;
      h.count++;
      this.#latency.set(l, h);
    });
  }

  async render(): Promise<string> {
    const out: string[] = [
      "# HELP switchboard_calls_stored Calls the regions have stored, by final status (from the call index).",
      "# TYPE switchboard_calls_stored gauge",
      ...(await this.#storedCalls()),
      ...this.#workers.lines(labels),
      "# HELP switchboard_api_requests_total REST requests answered, by route and status code.",
      "# TYPE switchboard_api_requests_total counter",
      ...[...this.#requests].map(([l, n]) => `switchboard_api_requests_total{${l}} ${n}`),
      "# HELP switchboard_api_request_duration_seconds Time to answer a REST request.",
      "# TYPE switchboard_api_request_duration_seconds histogram",
    ];
    for (const [l, h] of this.#latency) {
      LATENCY_BUCKETS.forEach((le, i) => {
        out.push(`switchboard_api_request_duration_seconds_bucket{${l},le="${le}"} ${h.buckets[i]}`);
      });
      out.push(`switchboard_api_request_duration_seconds_bucket{${l},le="+Inf"} ${h.count}`);
      out.push(`switchboard_api_request_duration_seconds_sum{${l}} ${h.sum}`);
      out.push(`switchboard_api_request_duration_seconds_count{${l}} ${h.count}`);
    }
    return `${out.join("\n")}\n`;
  }

  #storedCalls(): Promise<string[]> {
    if (!this.#counted || Date.now() - this.#counted.at > COUNT_TTL_MS) {
      // A store that does not answer leaves the gauge out of this scrape, not the whole page.
      const lines = this.#countStoredCalls().catch(() => {
        this.#counted = undefined;
        return ["# switchboard_calls_stored: JetStream did not answer"];
      });
      this.#counted = { at: Date.now(), lines };
    }
    return this.#counted.lines;
  }

  async #countStoredCalls(): Promise<string[]> {
    const jsm = await this.ctx.buckets.jsm();
    const lines: string[] = [];
    for await (const stream of jsm.streams.names()) {
      if (!stream.startsWith(INDEX_STREAM_PREFIX)) continue;
      const bucket = stream.slice("KV_".length);
      const region = stream.slice(INDEX_STREAM_PREFIX.length).replaceAll("_", "-");
      for (const status of CALL_STATUSES) {
        // Index keys are <account>.<day>.<time>.<sid>.<status>.<to>.<from>.<parent> (call-index.ts).
        const info = await jsm.consumers.add(stream, {
          ack_policy: AckPolicy.None,
          deliver_policy: DeliverPolicy.LastPerSubject,
          filter_subject: `$KV.${bucket}.*.*.*.*.${status}.*.*.*`,
          inactive_threshold: nanos(10_000),
        });
        await jsm.consumers.delete(stream, info.name).catch(() => {});
        lines.push(`switchboard_calls_stored{${labels({ region, status })}} ${info.num_pending}`);
      }
    }
    return lines;
  }
}

export async function metricsRoutes(app: FastifyInstance, metrics: ApiMetrics): Promise<void> {
  app.get("/metrics", async (_req, reply) =>
    reply.type("text/plain; version=0.0.4").send(await metrics.render()),
  );
}

function labels(values: Record<string, string>): string {
  const quoted = (v: string) => v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
  return Object.entries(values)
    .map(([k, v]) => `${k}="${quoted(v)}"`)
    .join(",");
}
