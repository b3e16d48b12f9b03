// What every part of a region worker shares, in small groups (its connection, its data, what it owes
// others), and opening it. A consumer takes the groups it uses (a Pick of RegionRuntime), not the whole.
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.js";
import type { AccountRecord, NumberConfig, OutgoingCallerIdRecord, RoutingEntry } from "../model/records.js";
import { type Subjects, subjects } from "../protocol/subjects.js";
import type { ConferenceStore } from "../store/conference-store.js";
import { openGlobalStores } from "../store/global.js";
import type { JsonKv } from "../store/json-kv.js";
import { openNotifications } from "../store/notifications.js";
import type { QueueStore } from "../store/queue-store.js";
import { openRegionStores, provisionRegionStreams, type RegionStores } from "../store/region.js";
import { openRoomStores } from "../store/room-stores.js";
import { WatchedKv } from "../store/watched-kv.js";
import type { WebhookClient } from "../webhook/client.js";
import { WorkerStatsPublisher } from "./host/worker-stats.js";
import { Inspector } from "./inspect/inspector.js";
import { Notifier } from "./outbox/notifier.js";
import { RegionRecordings } from "./outbox/recordings.js";
import { StatusCallbacks } from "./outbox/status-callbacks.js";

export interface RegionRuntime {
  readonly region: string;
  readonly log: Logger;
  readonly bus: RegionBus;
  /** The region's buckets: number configs, Call resources, actor snapshots and leases. */
  readonly stores: RegionStores;
  readonly directory: RegionDirectory;
  readonly rooms: RegionRooms;
  readonly outbox: RegionOutbox;
  /** Every call's inspection events and channel commands, in order per call. */
  readonly inspector: Inspector;
  /** This worker's stats (`/metrics`), webhook timings among them. */
  readonly stats: WorkerStatsPublisher;
  /** Every webhook, media fetch and stream of the region's calls goes out through it (pools, egress). */
  readonly webhooks: WebhookClient;
}

/** The worker's NATS connection and the subjects it speaks on. */
export interface RegionBus {
  readonly nc: NatsConnection;
  readonly subjects: Subjects;
}

/** Who is who, read by every call: accounts, the region's numbers, and where other numbers live. */
export interface RegionDirectory {
  /** `sb_accounts`, kept current by a watch. */
  readonly accounts: WatchedKv<AccountRecord>;
  /** The region's number configs (`sb_numbers_<R>`), kept current by a watch. */
  readonly numbers: WatchedKv<NumberConfig>;
  /** The routing table (`sb_routing`): which region hosts a number a <Dial> rings. */
  readonly routing: JsonKv<RoutingEntry>;
  /** Verified caller IDs (`sb_caller_ids`), read when a <Dial callerId> is not the account's own number. */
  readonly callerIds: JsonKv<OutgoingCallerIdRecord>;
}

/** The region's conferences and queues, shared by every worker of the region. */
export interface RegionRooms {
  readonly conferences: ConferenceStore;
  readonly queues: QueueStore;
}

/** What the region owes others besides the call itself: notifications, status callbacks, recordings. */
export interface RegionOutbox {
  /** Errors and warnings against a call: stored, published, logged. */
  readonly notifier: Notifier;
  /** The number's status callbacks, in order per call, off the call's path. */
  readonly statusCallbacks: StatusCallbacks;
  /** Recordings made by <Record>, and the work on them the call's end waits for. */
  readonly recordings: RegionRecordings;
}

export interface RegionRuntimeOptions {
  nc: NatsConnection;
  region: string;
  log: Logger;
  prefix?: string;
  /** The REST API's origin, for RecordingUrl. */
  apiUrl: string;
  /** Made (and closed) by the worker, or shared by `up`. */
  webhooks: WebhookClient;
}

/**
 * Provisions the region's streams and opens what its worker shares. Nothing here runs yet: the
 * status callbacks start on their consumer, and the watches stop, when the worker says.
 */
export async function openRegionRuntime(opts: RegionRuntimeOptions): Promise<RegionRuntime> {
  const { nc, region, log } = opts;
  const s = subjects(opts.prefix);
  await provisionRegionStreams(nc, region, opts.prefix);
  const [global, stores, rooms] = await Promise.all([
    openGlobalStores(nc),
    openRegionStores(nc, region),
    openRoomStores(nc, s, region),
  ]);
  const [accounts, numbers] = await Promise.all([
    WatchedKv.start<AccountRecord>(global.accounts.kv),
    // Every call reads its number's config: from a local copy, not a JetStream request per call.
    WatchedKv.start<NumberConfig>(stores.numbers.kv),
  ]);
  const inspector = new Inspector(nc, s, region);
  const notifier = new Notifier(await openNotifications(nc, region), inspector, log);
  const js = jetstream(nc);
  const stats = new WorkerStatsPublisher(nc, s, region);
  const { webhooks } = opts;
  const statusCallbacks = new StatusCallbacks({
    region,
    js,
    subjects: s,
    directory: { accounts },
    outbox: { notifier },
    log,
    webhooks,
    stats,
  });
  const recordings = new RegionRecordings({ nc, region, apiUrl: opts.apiUrl, log });
  return {
    region,
    log,
    bus: { nc, subjects: s },
    stores,
    directory: { accounts, numbers, routing: global.routing, callerIds: global.callerIds },
    rooms,
    outbox: { notifier, statusCallbacks, recordings },
    inspector,
    stats,
    webhooks,
  };
}
