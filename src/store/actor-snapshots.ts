// Reading a live call from `sb_actors_<R>` outside the worker that runs it (the api, the
// visualizer): the worker stores XState's persisted snapshot of the call there (with what it needs to
// resume it, region/host/snapshot-writer.ts), and a lease per call before the first snapshot
// (protocol/leases.ts). Only this file knows the snapshot's shape; readers get the Call resource.
import type { KV } from "@nats-io/kv";
import type { EndInput } from "../../machines/call.machine.js";
import { callResource } from "../model/call-resource.js";
import type { CallResource } from "../model/records.js";
import { leaseJob, leaseKeysOf } from "../protocol/leases.js";
import { JsonKv } from "./json-kv.js";

/** The call's facts and progress as its stored snapshot holds them, or undefined with no snapshot. */
export async function readSnapshotContext(actors: KV, callSid: string): Promise<EndInput | undefined> {
  return contextOf(await new JsonKv<unknown>(actors).get(callSid));
}

/**
 * What the actors bucket says of a live call: `snapshot` with the Call resource it would be now
 * (undefined when the snapshot names no account, or another call), else `leased` when only its
 * owner's lease is there (a call in its first second), else `absent`.
 */
export type LiveCallState =
  | { kind: "snapshot"; call: CallResource | undefined }
  | { kind: "leased" }
  | { kind: "absent" };

export async function readLiveCall(actors: KV, callSid: string): Promise<LiveCallState> {
  const context = await readSnapshotContext(actors, callSid);
  if (context) {
    const ok = context.facts.accountSid && context.facts.callSid === callSid;
    return { kind: "snapshot", call: ok ? callResource(context, null, context.arrivedAt) : undefined };
  }
  return (await hasLease(actors, callSid)) ? { kind: "leased" } : { kind: "absent" };
}

/** The CallSids of the <Dial> legs a live call's snapshot names (ringing or bridged); none without one. */
export async function dialLegSids(actors: KV, callSid: string): Promise<string[]> {
  const stored = (await new JsonKv<unknown>(actors).get(callSid)) as
    | { sb?: { dialLegs?: unknown } }
    | undefined;
  const legs = stored?.sb?.dialLegs;
  if (!Array.isArray(legs)) return [];
  return legs.flatMap((leg) => (typeof leg?.sid === "string" ? [leg.sid as string] : []));
}

/** Whether some worker holds a lease on the call. */
export async function hasLease(actors: KV, callSid: string): Promise<boolean> {
  for await (const _ of await actors.keys(leaseKeysOf(callSid))) return true;
  return false;
}

/** The edge a live call came through: from its snapshot, else from its lease's job; null if neither says. */
export async function liveCallEdge(actors: KV, callSid: string): Promise<string | null> {
  return (await liveCallOrigin(actors, callSid)).edge;
}

/**
 * Where a live call came from: its edge and its account, from its snapshot, else from its lease's
 * job (a call in its first second); null for what neither says.
 */
export async function liveCallOrigin(
  actors: KV,
  callSid: string,
): Promise<{ edge: string | null; accountSid: string | null }> {
  const context = await readSnapshotContext(actors, callSid);
  if (context) {
    const { edge, accountSid } = context.facts as { edge?: unknown; accountSid?: unknown };
    return {
      edge: typeof edge === "string" ? edge : null,
      accountSid: typeof accountSid === "string" && context.facts.callSid === callSid ? accountSid : null,
    };
  }
  for await (const key of await actors.keys(leaseKeysOf(callSid))) {
    const lease = await actors.get(key);
    const job = lease?.operation === "PUT" ? leaseJob(lease.value) : undefined;
    return { edge: job?.edge ?? null, accountSid: job?.accountSid ?? null };
  }
  return { edge: null, accountSid: null };
}

/**
 * The machine context inside a persisted snapshot: XState's `getPersistedSnapshot()` shape
 * (`{context}`), or that wrapped with an owner's lease (`{snapshot: {context}}`).
 */
function contextOf(value: unknown): EndInput | undefined {
  const v = value as { context?: unknown; snapshot?: { context?: unknown } } | undefined;
  const context = (v?.context ?? v?.snapshot?.context) as EndInput | undefined;
  return context && typeof context === "object" && context.facts && typeof context.facts === "object"
    ? context
    : undefined;
}
