// A conference's status callbacks, queued through the call's durable outbox: one request per event
// the conference's statusCallback asked for (the requests are built in protocol/callbacks.ts, which
// the api shares for changes made over REST).
import type { ConferenceEvent, ConferenceRecord } from "../../../model/rooms.js";
import { conferenceCallbacks } from "../../../protocol/callbacks.js";
import type { VerbContext } from "../../verb-context.js";

/** Sends the conference's status callbacks for `events`, when it has a statusCallback that wants them. */
export async function sendEvents(
  ctx: VerbContext,
  conference: ConferenceRecord,
  events: readonly ConferenceEvent[],
): Promise<void> {
  for (const cb of conferenceCallbacks(conference, events)) await ctx.callback(cb);
}
