// What the region's effects share: its connection, stores, caches and its live calls.
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.js";
import type { AccountRecord, NumberConfig } from "../model/records.js";
import type { Subjects } from "../protocol/subjects.js";
import type { ConferenceStore } from "../store/conference-store.js";
import type { QueueStore } from "../store/queue-store.js";
import type { RegionStores } from "../store/region.js";
import type { WatchedKv } from "../store/watched-kv.js";
import type { WorkerLeases } from "./host/leases.js";
import type { LiveCall } from "./host/live-call.js";
import type { WorkerStatsPublisher } from "./host/worker-stats.js";
import type { Inspector } from "./inspect/inspector.js";
import type { Notifier } from "./outbox/notifier.js";
import type { RegionRecordings } from "./outbox/recordings.js";
import type { StatusCallbacks } from "./outbox/status-callbacks.js";

export interface RegionRuntime {
  region: string;
  nc: NatsConnection;
  subjects: Subjects;
  stores: RegionStores;
  accounts: WatchedKv<AccountRecord>;
  /** The region's number configs (`sb_numbers_<R>`), kept current by a watch. */
  numbers: WatchedKv<NumberConfig>;
  inspector: Inspector;
  /** Errors and warnings against a call: stored, published, logged. */
  notifier: Notifier;
  /** The number's status callbacks, in order per call, off the call's path. */
  statusCallbacks: StatusCallbacks;
  /** Recordings made by <Record>, and the work on them the call's end waits for. */
  recordings: RegionRecordings;
  stats: WorkerStatsPublisher;
  /** Which calls this worker owns; noticing dead workers. */
  leases: WorkerLeases;
  log: Logger;
  /** The region's conferences and queues, shared by every worker of the region. */
  conferences: ConferenceStore;
  queues: QueueStore;
  /** The live call with this sid; effects run only for live calls, so a miss is a bug. */
  call(callSid: string): LiveCall;
}
