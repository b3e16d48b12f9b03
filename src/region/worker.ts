// The region worker: pulls calls from SB_CALLS_<R> no faster than it has room for
// (`--concurrency`), hosts each as an actor, and acks a call only once its first snapshot is
// stored. Several workers share the region's durable consumer.
import { type Consumer, type JsMsg, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { decode } from "../bus/codec.js";
import { streams, subjects, WORKER_CONSUMER } from "../bus/subjects.js";
import type { Logger } from "../log.js";
import { parseCallJob } from "../model/call-job.js";
import type { AccountRecord } from "../model/records.js";
import { openGlobalStores } from "../store/global.js";
import { openRegionStores, provisionRegionStreams } from "../store/region.js";
import { retrying } from "../store/retry.js";
import { WatchedKv } from "../store/watched-kv.js";
import { closeWebhookPools } from "../webhook/request.js";
import { CallHost } from "./call-host.js";
import { Inspector } from "./inspector.js";

export interface RegionWorkerOptions {
  nc: NatsConnection;
  region: string;
  log: Logger;
  concurrency?: number;
  prefix?: string;
  /** How long a graceful stop waits for live calls to end before leaving them to other workers. */
  drainMs?: number;
}

const MAX_BATCH = 256;

export class RegionWorker {
  readonly counters = { received: 0, started: 0, ended: 0, invalid: 0 };
  #running = true;
  #slotFreed: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  private constructor(
    private readonly opts: Required<Omit<RegionWorkerOptions, "prefix">> & { prefix?: string },
    private readonly host: CallHost,
    private readonly accounts: WatchedKv<AccountRecord>,
    private readonly consumer: Consumer,
  ) {
    host.onCallEnded = () => {
      this.counters.ended++;
      this.#slotFreed?.();
    };
  }

  static async start(options: RegionWorkerOptions): Promise<RegionWorker> {
    const opts = { concurrency: 1000, drainMs: 10_000, ...options };
    const { nc, region, log } = opts;
    const s = subjects(opts.prefix);
    await provisionRegionStreams(nc, region, opts.prefix);
    const [global, stores] = await Promise.all([openGlobalStores(nc), openRegionStores(nc, region)]);
    const accounts = await WatchedKv.start<AccountRecord>(global.accounts.kv);
    const inspector = new Inspector(nc, s, region);
    const host = new CallHost({ region, nc, subjects: s, stores, accounts, inspector, log });
    host.listen();
    const js = jetstream(nc);
    const consumer = await retrying("call consumer", () =>
      js.consumers.get(streams.calls(region), WORKER_CONSUMER),
    );
    const worker = new RegionWorker(opts, host, accounts, consumer);
    worker.#loop = worker.#pull();
    return worker;
  }

  get liveCalls(): number {
    return this.host.size;
  }

  async #pull(): Promise<void> {
    const { concurrency, log } = this.opts;
    while (this.#running) {
      const free = concurrency - this.host.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.#slotFreed = resolve;
        });
        continue;
      }
      try {
        const batch = await this.consumer.fetch({ max_messages: Math.min(free, MAX_BATCH), expires: 2_000 });
        for await (const msg of batch) {
          if (!this.#running) {
            msg.nak();
            continue;
          }
          void this.#take(msg);
        }
      } catch (err) {
        if (!this.#running) break;
        log.warn({ err }, "pulling calls failed; retrying");
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async #take(msg: JsMsg): Promise<void> {
    this.counters.received++;
    let job: ReturnType<typeof parseCallJob>;
    try {
      job = parseCallJob(decode(msg.data));
    } catch (err) {
      // A message that can never become a call is dropped for good, not redelivered forever.
      this.counters.invalid++;
      this.opts.log.error({ err, seq: msg.seq }, "dropped an invalid call message");
      msg.term();
      return;
    }
    try {
      await this.host.start(job);
      this.counters.started++;
      msg.ack();
    } catch (err) {
      this.opts.log.error({ err, callSid: job.callSid }, "cannot start call; it will be redelivered");
      msg.nak(1_000);
    }
  }

  /** Graceful stop: no new calls, let live calls finish for a while, then leave them persisted. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#slotFreed?.();
    await this.host.drain(this.opts.drainMs);
    this.host.stopAll();
    this.accounts.stop();
    await this.#loop?.catch(() => {});
    await closeWebhookPools();
  }
}
