// A region's own storage (DESIGN.md §3): its call stream, inspection stream and buckets.
// Every process that serves a region provisions them idempotently at start, placed on the
// region's own servers when the deployment tags them (placement.ts), so its data stays home.
import { AckPolicy, DeliverPolicy, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { type ObjectStore, Objm } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import type { CallResource, NumberConfig } from "../model/records.js";
import { buckets, CALLBACK_CONSUMER, streams, subjects, WORKER_CONSUMER } from "../protocol/subjects.js";
import { openGlobalStores } from "./global.js";
import { JsonKv } from "./json-kv.js";
import { routingMirrorStream, storePlacement, withPlacementHint } from "./placement.js";
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
  const placed = storePlacement(nc, region);
  const ensure = async (name: string, config: Record<string, unknown>) => {
    await retrying(`stream ${name}`, async () => {
      try {
        await jsm.streams.info(name);
      } catch (err) {
        if (!/stream not found/i.test((err as Error).message)) throw err;
        const where = {
          num_replicas: placed.replicas,
          ...(placed.placement && { placement: placed.placement }),
        };
        await withPlacementHint(placed, () => jsm.streams.add({ name, ...config, ...where }));
      }
    });
  };
  const callSubjects = [s.regionCalls(region), s.regionOutbound(region)];
  await ensure(streams.calls(region), {
    subjects: callSubjects,
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    // A re-sent offer within this window is the same call (message id = CallSid).
    duplicate_window: 2 * MINUTE_NS,
  });
  await addOutboundSubject(jsm, streams.calls(region), callSubjects);
  await ensure(streams.inspect(region), {
    subjects: [s.inspectAll(region)],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: 24 * 60 * MINUTE_NS,
  });
  await ensure(streams.callbacks(region), {
    subjects: [s.regionCallbacks(region)],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    // A callback queued again by a worker that resumed the call (same call, same SequenceNumber)
    // within this window is the same callback.
    duplicate_window: 10 * MINUTE_NS,
  });
  const consumer = (stream: string, name: string, extra: Record<string, unknown>) =>
    retrying(`consumer ${name}`, async () => {
      try {
        await jsm.consumers.info(stream, name);
      } catch (err) {
        if (!/consumer not found/i.test((err as Error).message)) throw err;
        await jsm.consumers.add(stream, {
          durable_name: name,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ...extra,
        });
      }
    });
  await consumer(streams.calls(region), WORKER_CONSUMER, {
    ack_wait: 30 * 1_000_000_000,
    max_ack_pending: 20_000,
  });
  // A callback request takes 15 s at most (Twilio's cap); one not acked by then is sent again,
  // with the same idempotency token, by whichever worker pulls it.
  await consumer(streams.callbacks(region), CALLBACK_CONSUMER, {
    ack_wait: 20 * 1_000_000_000,
    max_deliver: 5,
  });
  await Promise.all([provisionRoutingMirror(nc, region), openRecordings(nc, region)]);
}

/**
 * A call stream made before outbound calls existed listens on `calls` only: it is given the
 * `outbound` subject too. Updating a stream needs a user allowed to (admin, as `up` runs); a region
 * user is not, and then the api's outbound calls to that region fail with 90003 until a process
 * with such a user has provisioned the region once (docs/outbound.md).
 */
async function addOutboundSubject(
  jsm: Awaited<ReturnType<typeof jetstreamManager>>,
  name: string,
  wanted: string[],
): Promise<void> {
  const info = await jsm.streams.info(name);
  const have = info.config.subjects ?? [];
  if (wanted.every((w) => have.includes(w))) return;
  await jsm.streams
    .update(name, { ...info.config, subjects: [...new Set([...have, ...wanted])] })
    .catch(() => {});
}

export async function openRegionStores(nc: NatsConnection, region: string): Promise<RegionStores> {
  const [numbers, calls, actors] = await Promise.all([
    openRegionKv(nc, region, buckets.numbers(region), 5),
    openRegionKv(nc, region, buckets.calls(region), 1),
    openRegionKv(nc, region, buckets.actors(region), 1, ACTORS_TTL_MS),
  ]);
  return { region, numbers: new JsonKv(numbers), calls: new JsonKv(calls), actors: new JsonKv(actors) };
}

/** Opens (creating it, placed in the region, if need be) one of the region's KV buckets. */
export function openRegionKv(
  nc: NatsConnection,
  region: string,
  name: string,
  history: number,
  ttlMs?: number,
): Promise<KV> {
  const placed = storePlacement(nc, region);
  const ttl = ttlMs === undefined ? {} : { ttl: ttlMs };
  return retrying(`open bucket ${name}`, () =>
    withPlacementHint(placed, () => new Kvm(nc).create(name, { history, ...ttl, ...placed })),
  );
}

/**
 * Entries of `sb_actors_<R>` expire after this long. A finished call leaves a delete marker for its
 * snapshot and its lease, which nats-server 2.9 cannot expire one by one; nothing in the bucket needs
 * to outlive a call (4 h at most; a parked call's lease and snapshot are written once), and heartbeats
 * are rewritten every 500 ms.
 */
export const ACTORS_TTL_MS = 24 * 60 * 60 * 1000;

/** The region's recordings (object store `sb_recordings_<r>`), placed in the region. */
export function openRecordings(nc: NatsConnection, region: string): Promise<ObjectStore> {
  const name = buckets.recordings(region);
  const placed = storePlacement(nc, region);
  return retrying(`open object store ${name}`, () =>
    withPlacementHint(placed, () => new Objm(nc).create(name, { ...placed })),
  );
}

/**
 * The region's read-only copy of the routing table: a mirror of `sb_routing` on the region's own
 * servers, so an edge connected there reads routes locally and keeps them when the global cluster
 * is out of reach. Read it by opening `sb_routing` with the mirror's stream (DESIGN.md §8).
 * Only a placed deployment has one; on a single server the table itself is local already.
 */
export async function provisionRoutingMirror(
  nc: NatsConnection,
  region: string,
): Promise<string | undefined> {
  const placed = storePlacement(nc, region);
  if (!placed.placement) return undefined;
  const streamName = routingMirrorStream(region);
  // The table first: a mirror made before its origin exists only catches up on a later retry,
  // seconds after the origin appears, and routes read from it are stale until then.
  await openGlobalStores(nc);
  await retrying(`open mirror ${streamName}`, () =>
    withPlacementHint(placed, () =>
      new Kvm(nc).create(buckets.routing, {
        streamName,
        mirror: { name: buckets.routing },
        history: 5,
        ...placed,
      }),
    ),
  );
  return streamName;
}
