// /metrics in Prometheus' text format (prom-client), from what the api sees cheaply: stored calls by
// final status per region, counted by the server from the call index (a filtered consumer's pending
// count, no key is transferred), the api's own requests, what the region workers publish about their
// live calls and webhooks (worker-metrics.ts), and prom-client's process and Node.js metrics.
import { AckPolicy, DeliverPolicy } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { CALL_STATUSES } from "../../model/records.js";
import type { RestContext } from "./context.js";
import { WorkerMetrics } from "./worker-metrics.js";

const INDEX_STREAM_PREFIX = "KV_sb_call_index_";
/** Scrapes within this long of the last count reuse it: counting costs a few JetStream requests. */
const COUNT_TTL_MS = 5_000;
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface StoredCount {
  region: string;
  status: string;
  count: number;
}

/** Process and Node.js metrics (CPU, memory, event loop, GC): one set per process, however many apis it runs. */
let processMetrics: Registry | undefined;
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

export class ApiMetrics {
  readonly #own = new Registry();
  readonly registry: Registry;
  readonly #requests: Counter<"method" | "route" | "code">;
  readonly #latency: Histogram<"method" | "route">;
  #counted: { at: number; counts: Promise<StoredCount[]> } | undefined;
  readonly #workers: WorkerMetrics;

  constructor(private readonly ctx: RestContext) {
    const registers = [this.#own];
    const stored = () => this.#storedCalls();
    new Gauge({
      name: "switchboard_calls_stored",
      help: "Calls the regions have stored, by final status (from the call index).",
      labelNames: ["region", "status"],
      registers,
      async collect() {
        const counts = await stored();
        this.reset();
        for (const { region, status, count } of counts) this.set({ region, status }, count);
      },
    });
    this.#workers = new WorkerMetrics(ctx.nc);
    this.#workers.register(this.#own);
    this.#requests = new Counter({
      name: "switchboard_api_requests_total",
      help: "REST requests answered, by route and status code.",
      labelNames: ["method", "route", "code"],
      registers,
    });
    this.#latency = new Histogram({
      name: "switchboard_api_request_duration_seconds",
      help: "Time to answer a REST request.",
      labelNames: ["method", "route"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.registry = Registry.merge([this.#own, processRegistry()]);
  }

  /** Counts every request answered in `app`'s scope. */
  watch(app: FastifyInstance): void {
    app.addHook("onClose", async () => this.#workers.close());
    app.addHook("onResponse", async (req, reply) => {
      const route = req.routeOptions.url ?? "unmatched";
      this.#requests.inc({ method: req.method, route, code: String(reply.statusCode) });
      this.#latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  #storedCalls(): Promise<StoredCount[]> {
    if (!this.#counted || Date.now() - this.#counted.at > COUNT_TTL_MS) {
      // A store that does not answer leaves the gauge out of this scrape, not the whole page.
      const counts = this.#countStoredCalls().catch(() => {
        this.#counted = undefined;
        return [];
      });
      this.#counted = { at: Date.now(), counts };
    }
    return this.#counted.counts;
  }

  async #countStoredCalls(): Promise<StoredCount[]> {
    const jsm = await this.ctx.buckets.jsm();
    const counts: StoredCount[] = [];
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
        counts.push({ region, status, count: info.num_pending });
      }
    }
    return counts;
  }
}

export async function metricsRoutes(app: FastifyInstance, metrics: ApiMetrics): Promise<void> {
  app.get("/metrics", async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.render()),
  );
}
