// The region worker: pulls calls from SB_CALLS_<R> no faster than it has room for
// (`--concurrency`), hosts each as an actor, and acks a call only once its first snapshot is
// stored. Several workers share the region's durable consumer.
import { type Consumer, type ConsumerMessages, type JsMsg, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { fail } from "../errors/switchboard-error.js";
import type { Logger } from "../log.js";
import { type CallJob, parseCallJob } from "../protocol/call-job.js";
import { decode, encode } from "../protocol/codec.js";
import { buckets, CALLBACK_CONSUMER, streams, WORKER_CONSUMER } from "../protocol/subjects.js";
import { retrying } from "../store/retry.js";
import { WebhookClient } from "../webhook/client.js";
import type { EgressPolicy } from "../webhook/egress.js";
import { CallHost } from "./host/call-host.js";
import { type ExpiryContext, expireCall } from "./host/expired-call.js";
import { WorkerLeases } from "./host/leases.js";
import { refuseJob } from "./host/refused-job.js";
import type { StoredActor } from "./host/stored-actor.js";
import type { WorkerStatsPublisher } from "./host/worker-stats.js";
import { openRegionRuntime, type RegionRuntime } from "./runtime.js";

export interface RegionWorkerOptions {
  nc: NatsConnection;
  region: string;
  log: Logger;
  concurrency?: number;
  prefix?: string;
  /** How long a graceful stop waits for live calls to end before leaving them to other workers. */
  drainMs?: number;
  /**
   * How long a call may wait in the region's stream (from the edge's `offeredAt`) and still be run;
   * an older one ends `failed` with 90005 instead. Default 60 s.
   */
  maxWaitMs?: number;
  /** The REST API's origin as apps reach it, for RecordingUrl (default http://127.0.0.1:8080; `--api-url`). */
  apiUrl?: string;
  /** Where the worker's webhooks, media and streams may go (default: anywhere). */
  egress?: EgressPolicy;
  /**
   * A client shared with other workers of the process (`up`): its maker closes it. Without one the
   * worker makes its own (under `egress`) and closes it when it stops.
   */
  webhooks?: WebhookClient;
  /**
   * The NATS URL (with its credentials) `nc` was connected with: the worker's heartbeat then runs on
   * a thread of its own with its own connection, so a busy main thread does not silence it
   * (region/host/heartbeats.ts). Without it the heartbeat runs on the main thread.
   */
  natsUrl?: string;
}

const MAX_BATCH = 256;

export class RegionWorker {
  readonly counters = {
    received: 0,
    started: 0,
    ended: 0,
    invalid: 0,
    expired: 0,
    resumed: 0,
    duplicates: 0,
  };
  #running = true;
  #slotFreed: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  /** The pull of calls being read (stop() ends it). */
  #batch: ConsumerMessages | undefined;
  #expiry: ExpiryContext;
  #stats: WorkerStatsPublisher | undefined;
  #starting = 0;
  /** The worker's own client, closed by stop(); undefined when it was given one. */
  #ownWebhooks: WebhookClient | undefined;

  private constructor(
    private readonly opts: Required<
      Omit<RegionWorkerOptions, "prefix" | "egress" | "webhooks" | "natsUrl">
    > & {
      prefix?: string;
    },
    private readonly rt: RegionRuntime,
    private readonly leases: WorkerLeases,
    private readonly host: CallHost,
    private readonly consumer: Consumer,
  ) {
    const { region, bus, stores, outbox, log } = rt;
    this.#expiry = { region, nc: bus.nc, subjects: bus.subjects, stores, notifier: outbox.notifier, log };
    host.onCallEnded = () => {
      this.counters.ended++;
      this.#stats?.changed();
      this.#slotFreed?.();
    };
  }

  static async start(options: RegionWorkerOptions): Promise<RegionWorker> {
    const opts = {
      concurrency: 1000,
      drainMs: 10_000,
      maxWaitMs: 60_000,
      apiUrl: "http://127.0.0.1:8080",
      ...options,
    };
    const { nc, region, log } = opts;
    const ownWebhooks = options.webhooks
      ? undefined
      : new WebhookClient(options.egress ? { egress: options.egress } : {});
    const webhooks = options.webhooks ?? (ownWebhooks as WebhookClient);
    const rt = await openRegionRuntime({ ...opts, webhooks });
    const leases = new WorkerLeases({
      kv: rt.stores.actors.kv,
      bucket: buckets.actors(region),
      worker: rt.stats.worker,
      log,
      nc,
      ...(options.natsUrl && { url: options.natsUrl }),
    });
    const host = new CallHost(rt, leases);
    host.listen();
    const js = jetstream(nc);
    const [consumer, callbackConsumer] = await Promise.all([
      retrying("call consumer", () => js.consumers.get(streams.calls(region), WORKER_CONSUMER)),
      retrying("callback consumer", () => js.consumers.get(streams.callbacks(region), CALLBACK_CONSUMER)),
    ]);
    rt.outbox.statusCallbacks.start(callbackConsumer);
    const worker = new RegionWorker(opts, rt, leases, host, consumer);
    worker.#ownWebhooks = ownWebhooks;
    leases.onDead = (dead) => void worker.#takeOver(dead);
    leases.onLost = (callSid) => host.lose(callSid);
    await leases.start();
    worker.#loop = worker.#pull();
    worker.#stats = rt.stats;
    rt.stats.start(() => ({
      liveCalls: host.size,
      byState: host.byState(),
      counters: { ...worker.counters },
    }));
    return worker;
  }

  /** The client the worker's calls send their webhooks, media fetches and streams through. */
  get webhooks(): WebhookClient {
    return this.rt.webhooks;
  }

  get liveCalls(): number {
    return this.host.size;
  }

  async #pull(): Promise<void> {
    const { concurrency, log } = this.opts;
    while (this.#running) {
      // Calls still starting (lease and first snapshot being written) count as taken.
      const free = concurrency - this.host.size - this.#starting;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.#slotFreed = resolve;
        });
        continue;
      }
      try {
        const batch = await this.consumer.fetch({ max_messages: Math.min(free, MAX_BATCH), expires: 2_000 });
        this.#batch = batch;
        if (!this.#running) batch.stop();
        for await (const msg of batch) {
          if (!this.#running) {
            msg.nak();
            continue;
          }
          this.#starting++;
          void this.#take(msg).finally(() => {
            this.#starting--;
            this.#slotFreed?.();
          });
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
      checkSubject(job, msg.subject, this.rt.bus.subjects.regionOutbound(this.opts.region));
    } catch (err) {
      // A job that can never run is not redelivered forever: it ends failed, with a record and a
      // notification, when it names a call; a message that names none is dropped.
      try {
        const callSid = await refuseJob(this.#expiry, msg.data, err);
        if (callSid) this.opts.log.warn({ err, callSid }, "ended a call whose job cannot run");
        else this.opts.log.error({ err, seq: msg.seq }, "dropped an invalid call message");
        this.counters.invalid++;
        msg.term();
      } catch (storeErr) {
        this.opts.log.warn({ err: storeErr, seq: msg.seq }, "cannot end an invalid call job; later");
        msg.nak(1_000);
      }
      return;
    }
    if (msg.redelivered) {
      try {
        if (await this.#alreadyTaken(job.callSid)) {
          // A worker took it before (and may have died): its lease and snapshot carry it from here.
          this.counters.duplicates++;
          msg.ack();
          return;
        }
      } catch (err) {
        this.opts.log.warn(
          { err, callSid: job.callSid },
          "cannot tell whether a redelivered call runs; later",
        );
        msg.nak(1_000);
        return;
      }
    }
    const waitedMs = Date.now() - job.offeredAt;
    if (waitedMs > this.opts.maxWaitMs && !this.host.has(job.callSid)) {
      await this.#expire(msg, job, waitedMs);
      return;
    }
    try {
      await this.host.start(job, msg.data);
      this.counters.started++;
      msg.ack();
    } catch (err) {
      this.opts.log.error({ err, callSid: job.callSid }, "cannot start call; it will be redelivered");
      msg.nak(1_000);
    }
  }

  /**
   * True when the call is carried already: it ended (a record), runs here, has a snapshot whose
   * owner runs it or will have it claimed, or a lease of a worker found dead (whose calls are
   * claimed from their leases). A snapshot or lease that names this worker but is not running here
   * (its write was stored although this worker saw it fail) is resumed here, now. A lease of a live
   * worker without a snapshot is one whose start failed there (a call that started has its snapshot
   * long before the stream redelivers it): the call is started here.
   */
  async #alreadyTaken(callSid: string): Promise<boolean> {
    if (this.host.has(callSid)) return true;
    const { stores } = this.#expiry;
    const me = this.leases.worker;
    if ((await stores.calls.get(callSid)) !== undefined) return true;
    const stored = (await stores.actors.get(callSid)) as StoredActor | undefined;
    if (stored) {
      if (stored.sb?.owner === me) {
        await this.leases.own(callSid, encode(stored.sb.job));
        await this.#resumeUntilDone(callSid, me);
      }
      return true;
    }
    const holders = await this.leases.holders(callSid);
    if (holders.includes(me)) {
      await this.#resumeUntilDone(callSid, me);
      return true;
    }
    return holders.some((w) => this.leases.isDead(w));
  }

  /**
   * Claims a dead worker's calls and resumes each won, beyond `--concurrency` if need be: none is
   * dropped. A call claimed but not resumed yet (its snapshot could not be read: nats-server
   * restarting) is tried again until it is, since no other worker would ever claim it from us.
   */
  async #takeOver(dead: string): Promise<void> {
    let won: string[];
    try {
      won = await this.leases.claim(dead, (callSid) => this.host.has(callSid));
    } catch (err) {
      this.opts.log.warn({ err, dead }, "claiming a dead worker's calls failed; will retry");
      return; // the leases sweep calls onDead again for this worker
    }
    if (won.length) this.opts.log.info({ dead, claimed: won.length }, "took over a dead worker's calls");
    await Promise.all(won.map((callSid) => this.#resumeUntilDone(callSid, dead)));
  }

  async #resumeUntilDone(callSid: string, from: string): Promise<void> {
    for (let delay = 250; this.#running; delay = Math.min(delay * 2, 5_000)) {
      try {
        if (await this.host.resume(callSid, from)) this.counters.resumed++;
        return;
      } catch (err) {
        this.opts.log.warn({ err, callSid }, "resuming a call failed; retrying");
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async #expire(msg: JsMsg, job: CallJob, waitedMs: number): Promise<void> {
    this.counters.expired++;
    try {
      await expireCall(this.#expiry, job, waitedMs);
      msg.ack();
    } catch (err) {
      this.opts.log.error(
        { err, callSid: job.callSid },
        "cannot end an expired call; it will be redelivered",
      );
      msg.nak(1_000);
    }
  }

  /**
   * Graceful stop: no new calls; live calls get `drainMs` to finish; the rest are stopped with their
   * snapshots stored and handed over (this worker's heartbeat is deleted, so another worker of the
   * region resumes them at once).
   */
  async stop(): Promise<void> {
    this.#running = false;
    this.#stats?.stop();
    this.#slotFreed?.();
    // A pull does not end while its server is gone (nats.js holds its expiry until it reconnects),
    // and a worker stopped then never exited. Calls it had not delivered are the stream's again.
    this.#batch?.stop();
    await this.host.drain(this.opts.drainMs);
    await this.host.stopAll();
    // Recordings of calls that ended (or were handed over) while being stored are finished first.
    await this.rt.outbox.recordings.settled();
    await this.leases.stop(true);
    await this.rt.outbox.statusCallbacks.stop();
    // A failed callback's warning (or a call's last one) is written after its request: stored before exit.
    await this.rt.outbox.notifier.settled();
    this.rt.inspector.flushAll();
    this.rt.directory.accounts.stop();
    this.rt.directory.numbers.stop();
    await this.#loop?.catch(() => {});
    await this.#ownWebhooks?.close();
  }
}

/**
 * Only the api may place outbound calls (NATS users: only it may publish on `outbound`): a job that
 * carries an outbound call on `calls` (an edge's subject) is refused, and so is an inbound one on
 * `outbound`, so no SIP peer or edge can start a call that rings out.
 */
function checkSubject(job: CallJob, subject: string, outboundSubject: string): void {
  if ((job.outbound !== undefined) !== (subject === outboundSubject)) {
    throw fail(
      "invalidPayload",
      job.outbound
        ? `an outbound call job on ${subject}`
        : `a job that is not an outbound call on ${subject}`,
    );
  }
}
