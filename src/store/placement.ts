// Where JetStream puts switchboard's streams and buckets (DESIGN.md §7, docs/regions.md). In a
// supercluster every server carries `server_tags: ["region:<name>"]`, and each region's storage is
// created with placement tags so that it lives only on that region's servers (data residency); the
// global buckets go to `region:global`. A plain single server has no tags, and a placement there
// fails every create with "no suitable peers", so without a cluster storage is made as before.
import type { Placement } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { buckets } from "../protocol/subjects.js";

/** `tags`: always place; `none`: never; `auto` (default): place when the server is in a cluster. */
export type PlacementMode = "auto" | "tags" | "none";

export const PLACEMENT_ENV = "SWITCHBOARD_PLACEMENT";
/** Replicas of every stream and bucket (1, 3 or 5); a production cluster of 3 servers uses 3. */
export const REPLICAS_ENV = "SWITCHBOARD_REPLICAS";

/** The placement scope of `sb_routing` and `sb_accounts`, and the name of the edges' cluster. */
export const GLOBAL_SCOPE = "global";

/** How a stream or bucket is created: pass it to `streams.add`, `Kvm.create` or `Objm.create`. */
export interface StorePlacement {
  placement?: Placement;
  replicas: number;
}

type Env = Record<string, string | undefined>;

/** The server tag that marks a server of `scope` (a region name, or "global"). */
export function regionTag(scope: string): string {
  return `region:${scope}`;
}

export function placementMode(env: Env = process.env): PlacementMode {
  const mode = env[PLACEMENT_ENV] || "auto";
  if (mode === "auto" || mode === "tags" || mode === "none") return mode;
  throw new Error(`${PLACEMENT_ENV} must be auto, tags or none, not "${mode}"`);
}

export function replicaCount(env: Env = process.env): number {
  const value = env[REPLICAS_ENV] || "1";
  if (value === "1" || value === "3" || value === "5") return Number(value);
  throw new Error(`${REPLICAS_ENV} must be 1, 3 or 5, not "${value}"`);
}

/**
 * Whether storage is placed by tags. `auto` decides from the server's INFO: a server in a cluster
 * (every member of a supercluster is) is taken to carry region tags; a lone server is not.
 */
export function usesPlacement(nc: NatsConnection, mode: PlacementMode = placementMode()): boolean {
  if (mode === "auto") return !!nc.info?.cluster;
  return mode === "tags";
}

/** How the storage of `scope` (a region, or GLOBAL_SCOPE) is created on this deployment. */
export function storePlacement(nc: NatsConnection, scope: string, env: Env = process.env): StorePlacement {
  const replicas = replicaCount(env);
  if (!usesPlacement(nc, placementMode(env))) return { replicas };
  // `cluster` is optional on the wire; the client's type insists on it.
  return { placement: { tags: [regionTag(scope)] } as Placement, replicas };
}

/** The stream of a region's read-only copy of `sb_routing` (a JetStream mirror placed there). */
export function routingMirrorStream(region: string): string {
  return `KV_${buckets.routing}_${region.replaceAll("-", "_")}`;
}

/**
 * Runs a create that uses `placed`, turning JetStream's "no suitable peers" into the fix: a cluster
 * whose servers carry no region tags either gets them or turns placement off.
 */
export async function withPlacementHint<T>(placed: StorePlacement, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const tags = placed.placement?.tags;
    if (!tags || !/no suitable peers|insufficient resources/i.test(String((err as Error)?.message)))
      throw err;
    throw new Error(
      `${(err as Error).message}: no server carries server_tags ${JSON.stringify(tags)} (with ` +
        `${placed.replicas} replica(s)); tag the servers, or set ${PLACEMENT_ENV}=none`,
      { cause: err },
    );
  }
}
