// What a worker tells the api's /metrics, every few seconds on `sb.region.<r>.stats.<worker>`:
// its live calls by state, its call counters and a histogram of its webhook latencies. Publishing
// a small summary keeps /metrics from ever asking the workers anything.
import { randomBytes } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { encode } from "../../protocol/codec.js";
import type { Subjects } from "../../protocol/subjects.js";

/** Upper bounds (seconds) of the webhook latency buckets; Twilio's hard cap is 15 s. */
export const WEBHOOK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15];

export interface WorkerStats {
  worker: string;
  region: string;
  at: number;
  liveCalls: number;
  /** Live calls by top-level state. */
  byState: Record<string, number>;
  counters: Record<string, number>;
  webhook: { buckets: number[]; sum: number; count: number };
}

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
