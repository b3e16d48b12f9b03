// A region's buckets as the api reads them: opened (never created: a Host naming a region that
// does not exist must not make buckets), cached per name. A bucket that does not exist reads as
// empty, so a region with no recordings yet still lists a valid, empty page.
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { type ObjectStore, Objm } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import type { CallResource, NumberConfig } from "../../model/records.js";
import { buckets, subjects } from "../../protocol/subjects.js";
import { callIndexBucket } from "../../store/call-index.js";
import { ConferenceStore } from "../../store/conference-store.js";
import { JsonKv } from "../../store/json-kv.js";
import type { NotificationRecord } from "../../store/notifications.js";
import { QueueStore } from "../../store/queue-store.js";

export class RegionBuckets {
  readonly #kvs = new Map<string, Promise<KV>>();
  #jsm: Promise<JetStreamManager> | undefined;

  constructor(readonly nc: NatsConnection) {}

  calls(region: string): Promise<JsonKv<CallResource>> {
    return this.#json(buckets.calls(region));
  }

  numbers(region: string): Promise<JsonKv<NumberConfig>> {
    return this.#json(buckets.numbers(region));
  }

  notifications(region: string): Promise<JsonKv<NotificationRecord>> {
    return this.#json(buckets.notifications(region));
  }

  actors(region: string): Promise<KV> {
    return this.#kv(buckets.actors(region));
  }

  /** The region's queues (their bridges in the conferences bucket); REST changes are announced to the calls waiting in them. */
  async queues(region: string): Promise<QueueStore> {
    const [queues, bridges] = await Promise.all([
      this.#kv(buckets.queues(region)),
      this.#kv(buckets.conferences(region)),
    ]);
    return new QueueStore(queues, this.nc, subjects(), region, bridges);
  }

  async conferences(region: string): Promise<ConferenceStore> {
    return new ConferenceStore(await this.#kv(buckets.conferences(region)), this.nc, subjects(), region);
  }

  callIndex(region: string): Promise<KV> {
    return this.#kv(callIndexBucket(region));
  }

  /** The region's recordings, or undefined while the store does not exist. */
  async recordings(region: string): Promise<ObjectStore | undefined> {
    return new Objm(this.nc).open(buckets.recordings(region)).catch((err: unknown) => {
      if (isMissingStream(err)) return undefined;
      throw err;
    });
  }

  jsm(): Promise<JetStreamManager> {
    this.#jsm ??= jetstreamManager(this.nc);
    this.#jsm.catch(() => {
      this.#jsm = undefined;
    });
    return this.#jsm;
  }

  async #json<T>(name: string): Promise<JsonKv<T>> {
    return new JsonKv<T>(await this.#kv(name));
  }

  #kv(name: string): Promise<KV> {
    let kv = this.#kvs.get(name);
    if (!kv) {
      // `open` binds without asking the server; a missing bucket shows up on the first read.
      kv = new Kvm(this.nc).open(name);
      kv.catch(() => this.#kvs.delete(name));
      this.#kvs.set(name, kv);
    }
    return kv;
  }
}

/**
 * True when JetStream says the stream (bucket, object store) does not exist, or the api's NATS user
 * may not touch it: the user holds every region of the deployment (docs/security.md), so a Host
 * naming another region names one that does not exist here.
 */
export function isMissingStream(err: unknown): boolean {
  const e = err as { code?: number; message?: string } | undefined;
  const message = String(e?.message ?? "");
  return e?.code === 10059 || /(stream|object store) not found|permissions violation/i.test(message);
}

/** Runs a read; a missing bucket gives `fallback` instead of an error. */
export async function orIfMissing<T>(read: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (isMissingStream(err)) return fallback;
    throw err;
  }
}

/** Every key matching `filter` (a server-side subject filter); none when the bucket is missing. */
export async function listKeys(kv: KV, filter = ">"): Promise<string[]> {
  return orIfMissing(async () => {
    const keys: string[] = [];
    for await (const key of await kv.keys(filter)) keys.push(key);
    return keys;
  }, []);
}
