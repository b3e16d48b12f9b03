// What a worker tells the api's /metrics, every few seconds on `sb.region.<r>.stats.<worker>`:
// its live calls by state, its call counters and a histogram of its webhook latencies. Publishing
// a small summary keeps /metrics from ever asking the workers anything. The message's schema is
// protocol/worker-stats.ts.
import { randomBytes } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { encode } from "../../protocol/codec.js";
import type { Subjects } from "../../protocol/subjects.js";
import { WEBHOOK_BUCKETS, type WorkerStats } from "../../protocol/worker-stats.js";

export class WorkerStatsPublisher {
  readonly worker = `${process.pid}-${randomBytes(3).toString("hex")}`;
  readonly #webhook = { buckets: WEBHOOK_BUCKETS.map(() => 0), sum: 0, count: 0 };
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Timeout | undefined;
  #publish: (() => void) | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly region: string,
  ) {}

  /** Records one webhook request's duration. */
  observeWebhook(ms: number): void {
    const seconds = ms / 1000;
    const i = WEBHOOK_BUCKETS.findIndex((le) => seconds <= le);
    if (i >= 0) this.#webhook.buckets[i] = (this.#webhook.buckets[i] ?? 0) + 1;
    this.#webhook.sum += seconds;
    this.#webhook.count++;
  }

  start(read: () => Pick<WorkerStats, "liveCalls" | "byState" | "counters">, everyMs = 5_000): void {
    const publish = () => {
      const stats: WorkerStats = {
        worker: this.worker,
        region: this.region,
        at: Date.now(),
        ...read(),
        webhook: this.#webhook,
      };
      this.nc.publish(this.subjects.workerStats(this.region, this.worker), encode(stats));
    };
    this.#publish = publish;
    publish();
    this.#timer = setInterval(publish, everyMs);
    this.#timer.unref();
  }

  /** Something changed (a call ended): publish within a second instead of waiting for the interval. */
  changed(): void {
    if (this.#soon || !this.#publish) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      this.#publish?.();
    }, 1_000);
    this.#soon.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    this.#publish = undefined;
  }
}
