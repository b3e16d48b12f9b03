// Finding one call for an account: the stored Call resource once the call has ended, else the
// live call's persisted actor snapshot in `sb_actors_<r>` (the region writes it as the call goes on),
// rendered as the Call resource it would be now. A call in its first second has no snapshot yet,
// only its owner's lease (snapshot-writer.ts): its worker is asked, with an empty control request.
// Another account's call is not found.

import type { KV } from "@nats-io/kv";
import type { EndInput } from "../../../machines/call.machine.js";
import { fail } from "../../errors/switchboard-error.js";
import { callResource } from "../../model/call-resource.js";
import type { CallResource } from "../../model/records.js";
import { isSid } from "../../model/sid.js";
import { encode } from "../../protocol/codec.js";
import { readReply } from "../../protocol/service-error.js";
import { subjects } from "../../protocol/subjects.js";
import { leaseKeysOf } from "../../region/host/leases.js";
import { JsonKv } from "../../store/json-kv.js";
import { CONTROL_TIMEOUT_MS } from "./call-control-timeout.js";
import { orIfMissing, type RegionBuckets } from "./region-buckets.js";

export interface FoundCall {
  call: CallResource;
  /** True while the call runs (no stored record yet). */
  live: boolean;
}

export async function storedCall(
  b: RegionBuckets,
  region: string,
  callSid: string,
): Promise<CallResource | undefined> {
  if (!isSid("CA", callSid)) return undefined;
  const calls = await b.calls(region);
  return orIfMissing(() => calls.get(callSid), undefined);
}

/** The live call's resource, or undefined when it is not live (or has no account yet). */
export async function liveCall(
  b: RegionBuckets,
  region: string,
  callSid: string,
): Promise<CallResource | undefined> {
  if (!isSid("CA", callSid)) return undefined;
  const actors = await b.actors(region);
  const snapshot = await orIfMissing(() => new JsonKv<unknown>(actors).get(callSid), undefined);
  const context = contextOf(snapshot);
  if (context) {
    if (!context.facts?.accountSid || context.facts.callSid !== callSid) return undefined;
    return callResource(context, null, context.arrivedAt);
  }
  if (!(await orIfMissing(() => hasLease(actors, callSid), false))) return undefined;
  try {
    const reply = await b.nc.request(subjects().callControl(region, callSid), encode({}), {
      timeout: CONTROL_TIMEOUT_MS,
    });
    const call = readReply(reply) as CallResource;
    return call.account_sid ? call : undefined;
  } catch {
    return undefined; // it ended meanwhile, or its worker is gone and it waits to be resumed
  }
}

async function hasLease(actors: KV, callSid: string): Promise<boolean> {
  for await (const _ of await actors.keys(leaseKeysOf(callSid))) return true;
  return false;
}

/** The call if it exists in `region` and belongs to `accountSid`; 20404 otherwise. */
export async function ownedCall(
  b: RegionBuckets,
  region: string,
  accountSid: string,
  callSid: string,
  url: string,
): Promise<FoundCall> {
  const stored = await storedCall(b, region, callSid);
  const found = stored ? { call: stored, live: false } : await liveCall(b, region, callSid).then(asLive);
  if (!found || found.call.account_sid !== accountSid) {
    throw fail("notFound", `The requested resource ${url.split("?")[0]} was not found`);
  }
  return found;
}

function asLive(call: CallResource | undefined): FoundCall | undefined {
  return call && { call, live: true };
}

/**
 * The machine context inside a persisted snapshot: XState's `getPersistedSnapshot()` shape
 * (`{context}`), or that wrapped with an owner's lease (`{snapshot: {context}}`).
 */
function contextOf(value: unknown): EndInput | undefined {
  const v = value as { context?: unknown; snapshot?: { context?: unknown } } | undefined;
  const context = (v?.context ?? v?.snapshot?.context) as EndInput | undefined;
  return context && typeof context === "object" && "facts" in context ? context : undefined;
}
