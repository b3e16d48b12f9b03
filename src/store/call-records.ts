// A call's record in `sb_calls_<r>` is written once, create-only: nothing, not a call run twice nor
// another account's call that reused the CallSid, can overwrite the record of a call that ended.
import type { CallResource } from "../model/records.js";
import type { JsonKv } from "./json-kv.js";

/**
 * Stores `record` unless the call has one. "stored" when this write made it; "same" when the record
 * there is this call's (an earlier attempt of this write, or a second run of the call that ended
 * first); "other" when it is another call's (another account or number): it is kept, not replaced.
 */
export async function storeCallRecord(
  calls: JsonKv<CallResource>,
  record: CallResource,
): Promise<"stored" | "same" | "other"> {
  if (await calls.create(record.sid, record)) return "stored";
  const held = await calls.get(record.sid);
  // Deleted in between (only an operator deletes records): this call's record is the one to keep.
  if (held === undefined) return (await calls.create(record.sid, record)) ? "stored" : "other";
  const same = held.account_sid === record.account_sid && held.to === record.to && held.from === record.from;
  return same ? "same" : "other";
}

/**
 * Writes a record that changes while its call lives (a Dial leg: queued, ringing, in-progress, then
 * its end) at the revision its writer last wrote, so it replaces only its own: the first write is
 * create-only. Returns the new revision; a write that finds another writer's record fails (and leaves
 * that record as it is).
 */
export async function writeOwnCallRecord(
  calls: JsonKv<CallResource>,
  record: CallResource,
  revision: number,
): Promise<number> {
  const data = JSON.stringify(record);
  return revision === 0 ? calls.kv.create(record.sid, data) : calls.kv.update(record.sid, data, revision);
}
