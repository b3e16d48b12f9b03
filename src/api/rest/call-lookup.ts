// Finding one call for an account: the stored Call resource once the call has ended, else the
// live call's persisted actor snapshot in `sb_actors_<r>` (the region writes it on every state
// change), rendered as the Call resource it would be now. Another account's call is not found.
import type { EndInput } from "../../../machines/call.machine.js";
import { fail } from "../../errors/switchboard-error.js";
import type { CallResource } from "../../model/records.js";
import { isSid } from "../../model/sid.js";
import { callResource } from "../../region/call-resource.js";
import { JsonKv } from "../../store/json-kv.js";
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

/** The live call's resource from its snapshot, or undefined when no snapshot (or no account) yet. */
export async function liveCall(
  b: RegionBuckets,
  region: string,
  callSid: string,
): Promise<CallResource | undefined> {
  if (!isSid("CA", callSid)) return undefined;
  const kv = new JsonKv<unknown>(await b.actors(region));
  const snapshot = await orIfMissing(() => kv.get(callSid), undefined);
  const context = contextOf(snapshot);
  if (!context?.facts?.accountSid || context.facts.callSid !== callSid) return undefined;
  return callResource(context, null, context.arrivedAt);
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
