// Finding one call for an account: the stored Call resource once the call has ended, else the
// live call's Call resource as its persisted actor snapshot in `sb_actors_<r>` has it now
// (store/actor-snapshots.ts). A call in its first second has no snapshot yet,
// only its owner's lease (snapshot-writer.ts): its worker is asked, with an empty control request.
// Another account's call is not found.

import { fail } from "../../errors/switchboard-error.js";
import type { CallResource } from "../../model/records.js";
import { isSid } from "../../model/sid.js";
import { readCallControlReply } from "../../protocol/call-control.js";
import { encode } from "../../protocol/codec.js";
import { readReply } from "../../protocol/service-error.js";
import { subjects } from "../../protocol/subjects.js";
import { readLiveCall } from "../../store/actor-snapshots.js";
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
  const state = await orIfMissing(() => readLiveCall(actors, callSid), { kind: "absent" } as const);
  if (state.kind === "snapshot") return state.call;
  if (state.kind === "absent") return undefined;
  try {
    const reply = await b.nc.request(subjects().callControl(region, callSid), encode({}), {
      timeout: CONTROL_TIMEOUT_MS,
    });
    const call = readCallControlReply(readReply(reply));
    return call.account_sid ? call : undefined;
  } catch {
    return undefined; // it ended meanwhile, or its worker is gone and it waits to be resumed
  }
}

/** The call if it exists in `region` and belongs to `accountSid`; 20404 otherwise. */
export async function ownedCall(
  b: RegionBuckets,
  region: string,
  accountSid: string,
  callSid: string,
  url: string,
): Promise<FoundCall> {
  const found =
    (await storedCall(b, region, callSid).then(asStored)) ??
    (await liveCall(b, region, callSid).then(asLive)) ??
    // Neither stored nor live: it may have ended between the two reads (its worker stores the
    // record, then deletes the snapshot and the lease), so the record is read once more.
    (await storedCall(b, region, callSid).then(asStored));
  if (!found || found.call.account_sid !== accountSid) {
    throw fail("notFound", `The requested resource ${url.split("?")[0]} was not found`);
  }
  return found;
}

function asStored(call: CallResource | undefined): FoundCall | undefined {
  return call && { call, live: false };
}

function asLive(call: CallResource | undefined): FoundCall | undefined {
  return call && { call, live: true };
}
