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
