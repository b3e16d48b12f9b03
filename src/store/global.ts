// The global buckets: the routing table, the accounts (with their secrets: regions sign with them),
// the accounts' status without secrets, which is all an edge reads of them, verified caller IDs, and
// the SIP trunks.

import { jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { AccountRecord, OutgoingCallerIdRecord, RoutingEntry } from "../model/records.js";
import type { TrunkRecord } from "../model/trunk.js";
import { buckets } from "../protocol/subjects.js";
import { ACCOUNT_STATUS_BUCKET, type AccountStatus } from "./account-status.js";
import { CALLER_IDS_BUCKET } from "./caller-ids.js";
import { JsonKv } from "./json-kv.js";
import {
  GLOBAL_SCOPE,
  routingMirrorStream,
  storePlacement,
  usesPlacement,
  withPlacementHint,
} from "./placement.js";
import { retrying } from "./retry.js";

export interface GlobalStores {
  routing: JsonKv<RoutingEntry>;
  accounts: JsonKv<AccountRecord>;
  accountStatus: JsonKv<AccountStatus>;
  /** Verified caller IDs (caller-ids.ts). */
  callerIds: JsonKv<OutgoingCallerIdRecord>;
}

/** `sb_trunks`: trunk name -> TrunkRecord (read through src/store/trunks.ts, which validates). */
export interface TrunkStores {
  trunks: JsonKv<TrunkRecord>;
}

/**
 * What the operators' commands open: the global buckets and the trunks. Apart, because region workers
 * open the global buckets and may not read the trunks (docs/security.md).
 */
export type AdminStores = GlobalStores & TrunkStores;

/** What an edge opens: the routing table and the accounts' status, never `sb_accounts`. */
export type EdgeStores = Pick<GlobalStores, "routing" | "accountStatus">;

/** The key in `sb_accounts` that names the default account (`up` sets it). */
export const DEFAULT_ACCOUNT_KEY = "_default";

/** Opens the global buckets, creating them (placed on the `region:global` servers) if need be. */
export async function openGlobalStores(nc: NatsConnection): Promise<GlobalStores> {
  const open = globalBucket(nc);
  const [routing, accounts, accountStatus, callerIds] = await Promise.all([
    open(buckets.routing, 5),
    open(buckets.accounts, 1),
    open(ACCOUNT_STATUS_BUCKET, 1),
    open(CALLER_IDS_BUCKET, 1),
  ]);
  return {
    routing: new JsonKv(routing),
    accounts: new JsonKv(accounts),
    accountStatus: new JsonKv(accountStatus),
    callerIds: new JsonKv(callerIds),
  };
}

/**
 * Opens `sb_trunks`, creating it on the `region:global` servers if need be (admin, the api). A role
 * that may only read it (a SIP gateway) opens it once it exists.
 */
export async function openTrunkStores(nc: NatsConnection): Promise<TrunkStores> {
  return { trunks: new JsonKv(await globalBucket(nc)(buckets.trunks, 1)) };
}

export async function openAdminStores(nc: NatsConnection): Promise<AdminStores> {
  const [global, trunks] = await Promise.all([openGlobalStores(nc), openTrunkStores(nc)]);
  return { ...global, ...trunks };
}

/** Opens the buckets an edge reads. They exist once an account does (the api or admin made them). */
export async function openEdgeStores(nc: NatsConnection): Promise<EdgeStores> {
  const open = globalBucket(nc);
  const [routing, accountStatus] = await Promise.all([
    open(buckets.routing, 5),
    open(ACCOUNT_STATUS_BUCKET, 1),
  ]);
  return { routing: new JsonKv(routing), accountStatus: new JsonKv(accountStatus) };
}

/** Opens a global bucket (STREAM.INFO), creating it on the `region:global` servers if it is missing. */
function globalBucket(nc: NatsConnection): (name: string, history: number) => Promise<KV> {
  const kvm = new Kvm(nc);
  const placed = storePlacement(nc, GLOBAL_SCOPE);
  return (name, history) =>
    retrying(`open bucket ${name}`, () =>
      withPlacementHint(placed, () => kvm.create(name, { history, ...placed })),
    );
}

/**
 * The routing table as a reader close to a region should see it: `streamName` (a region's mirror,
 * e.g. `KV_sb_routing_us1`) when given; else the mirror of the cluster this connection landed in,
 * when that cluster has one (clusters are named after their region); else `sb_routing` itself.
 * Writes always go to `sb_routing` through `openGlobalStores`.
 */
export async function openRoutingReplica(
  nc: NatsConnection,
  global: Pick<GlobalStores, "routing">,
  streamName?: string,
): Promise<{ kv: KV; stream: string }> {
  const stream = streamName ?? (await localRoutingMirror(nc));
  if (!stream) return { kv: global.routing.kv, stream: `KV_${buckets.routing}` };
  // A mirror is read by the original bucket name with the mirror's stream (DESIGN.md §8).
  const kv = await new Kvm(nc).open(buckets.routing, { streamName: stream });
  return { kv, stream };
}

async function localRoutingMirror(nc: NatsConnection): Promise<string | undefined> {
  const cluster = nc.info?.cluster;
  if (!cluster || !usesPlacement(nc)) return undefined;
  const jsm = await retrying("JetStream", () => jetstreamManager(nc));
  const stream = routingMirrorStream(cluster);
  try {
    await retrying(`stream ${stream}`, () => jsm.streams.info(stream));
    return stream;
  } catch (err) {
    if (/stream not found/i.test(String((err as Error)?.message))) return undefined;
    throw err;
  }
}

export async function defaultAccountSid(stores: GlobalStores): Promise<string | undefined> {
  const pointer = (await stores.accounts.kv
    .get(DEFAULT_ACCOUNT_KEY)
    .then((e) => (e ? JsonKv.decode<unknown>(e) : undefined))) as { sid?: string } | undefined;
  return pointer?.sid;
}

export async function setDefaultAccountSid(stores: GlobalStores, sid: string): Promise<void> {
  await stores.accounts.kv.put(DEFAULT_ACCOUNT_KEY, JSON.stringify({ sid }));
}
