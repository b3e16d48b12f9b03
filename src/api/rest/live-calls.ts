// The live calls of a region for the Calls list: the call index names only calls that have ended, so a
// list that may hold queued, ringing or in-progress calls also reads the calls `sb_actors_<r>` knows
// (a snapshot keyed by the CallSid, or for a call in its first second its owner's lease
// `_o.<worker>.<CallSid>`), each as `GET Calls/{Sid}` would show it now (call-lookup.ts), a few at a
// time; one that cannot be read (it ended meanwhile) is left out. A Dial's live child legs are listed
// when the list asks for a ParentCallSid; a REST call still queued in the stream (no worker has it
// yet) is not listed until it ends.
import type { CallResource, CallStatus } from "../../model/records.js";
import { isSid } from "../../model/sid.js";
import { dialLegSids } from "../../store/actor-snapshots.js";
import {
  type CallIndexEntry,
  type CallIndexFilter,
  callIndexKey,
  parseCallIndexKey,
  utcDay,
} from "../../store/call-index.js";
import { liveCall, storedCall } from "./call-lookup.js";
import { listKeys, orIfMissing, type RegionBuckets } from "./region-buckets.js";

/** The statuses a call has while it runs: a list asking for another reads no live call. */
const LIVE_STATUSES: ReadonlySet<string> = new Set<CallStatus>(["queued", "ringing", "in-progress"]);

export interface LiveEntry {
  entry: CallIndexEntry;
  call: CallResource;
}

/** The region's live calls that `filter` keeps, as index entries (for the list's order) and resources. */
export async function liveCallsFor(
  b: RegionBuckets,
  region: string,
  filter: CallIndexFilter,
): Promise<LiveEntry[]> {
  if (filter.status !== undefined && !LIVE_STATUSES.has(filter.status)) return [];
  // A Dial's child legs run no actor of their own: their parent's snapshot names them, and each
  // leg's record (written as it rings and answers) is what it is now.
  if (filter.parentCallSid !== undefined) return liveLegsOf(b, region, filter.parentCallSid, filter);
  const sids = new Set<string>();
  for (const key of await listKeys(await b.actors(region))) {
    const sid = key.startsWith("_o.") ? key.slice(key.lastIndexOf(".") + 1) : key;
    if (isSid("CA", sid)) sids.add(sid);
  }
  const found = await inBatches([...sids], (sid) => liveCall(b, region, sid).catch(() => undefined));
  return entriesOf(found, filter);
}

/** The live legs of `parent`'s <Dial> that `filter` keeps. */
async function liveLegsOf(
  b: RegionBuckets,
  region: string,
  parent: string,
  filter: CallIndexFilter,
): Promise<LiveEntry[]> {
  if (!isSid("CA", parent)) return [];
  const legs = await orIfMissing(async () => dialLegSids(await b.actors(region), parent), []);
  const found = await inBatches(legs, (sid) => storedCall(b, region, sid).catch(() => undefined));
  return entriesOf(
    found.filter((call) => call && LIVE_STATUSES.has(call.status)),
    filter,
  );
}

/** The calls of `filter`'s account that it keeps, with their index entries. */
function entriesOf(calls: readonly (CallResource | undefined)[], filter: CallIndexFilter): LiveEntry[] {
  const out: LiveEntry[] = [];
  for (const call of calls) {
    if (!call || call.account_sid !== filter.accountSid) continue;
    const key = callIndexKey(call);
    const entry = key === undefined ? undefined : parseCallIndexKey(key);
    if (entry && matches(entry, filter)) out.push({ entry, call });
  }
  return out;
}

/** What the index's key filter does on the server, done here for a live call's entry. */
function matches(e: CallIndexEntry, f: CallIndexFilter): boolean {
  return (
    (f.day === undefined || utcDay(e.startedAt) === f.day) &&
    (f.status === undefined || e.status === f.status) &&
    (f.to === undefined || e.to === f.to) &&
    (f.from === undefined || e.from === f.from) &&
    (f.parentCallSid === undefined || e.parentCallSid === f.parentCallSid)
  );
}

/** How many live calls are read at once: a region may have thousands in flight. */
const READS_AT_ONCE = 32;

async function inBatches<T, R>(items: readonly T[], read: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += READS_AT_ONCE) {
    out.push(...(await Promise.all(items.slice(i, i + READS_AT_ONCE).map(read))));
  }
  return out;
}
