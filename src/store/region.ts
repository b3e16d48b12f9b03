// A region's own storage (DESIGN.md §3): its call stream, inspection stream and buckets.
// Every process that serves a region provisions them idempotently at start.
import { AckPolicy, DeliverPolicy, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { buckets, streams, subjects, WORKER_CONSUMER } from "../bus/subjects.js";
import type { CallResource, NumberConfig } from "../model/records.js";
import { JsonKv } from "./json-kv.js";
import { retrying } from "./retry.js";

export interface RegionStores {
  region: string;
  numbers: JsonKv<NumberConfig>;
  calls: JsonKv<CallResource>;
  actors: JsonKv<unknown>;
}

const MINUTE_NS = 60 * 1_000_000_000;

/** Creates the region's streams and the shared worker consumer when they do not exist yet. */
export async function provisionRegionStreams(nc: NatsConnection, region: string, prefix?: string) {
  const jsm = await retrying("JetStream", () => jetstreamManager(nc));
  const s = subjects(prefix);
  const ensure = async (name: string, config: Record<string, unknown>) => {
    await retrying(`stream ${name}`, async () => {
      try {
        await jsm.streams.info(name);
      } catch (err) {
        if (!/stream not found/i.test((err as Error).message)) throw err;
        await jsm.streams.add({ name, ...config });
      }
    });
  };
  await ensure(streams.calls(region), {
    subjects: [s.regionCalls(region)],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    // A re-sent offer within this window is the same call (message id = CallSid).
    duplicate_window: 2 * MINUTE_NS,
  });
  await ensure(streams.inspect(region), {
    subjects: [s.inspectAll(region)],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: 24 * 60 * MINUTE_NS,
  });
  await retrying(`consumer ${WORKER_CONSUMER}`, async () => {
    try {
      await jsm.consumers.info(streams.calls(region), WORKER_CONSUMER);
    } catch (err) {
      if (!/consumer not found/i.test((err as Error).message)) throw err;
      await jsm.consumers.add(streams.calls(region), {
        durable_name: WORKER_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: 30 * 1_000_000_000,
        max_ack_pending: 20_000,
      });
    }
  });
}

export async function openRegionStores(nc: NatsConnection, region: string): Promise<RegionStores> {
  const kvm = new Kvm(nc);
  const open = (name: string, history: number) =>
    retrying(`open bucket ${name}`, () => kvm.create(name, { history }));
  const [numbers, calls, actors] = await Promise.all([
    open(buckets.numbers(region), 5),
    open(buckets.calls(region), 1),
    open(buckets.actors(region), 1),
  ]);
  return { region, numbers: new JsonKv(numbers), calls: new JsonKv(calls), actors: new JsonKv(actors) };
}
