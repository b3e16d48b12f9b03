// A conference's status callbacks: Twilio's parameters for each event, queued through the call's
// durable outbox, one request per event the conference's statusCallback asked for.
import { rfc2822 } from "../../../model/dates.js";
import type { ConferenceEvent, ConferenceRecord, ParticipantRecord } from "../../../model/rooms.js";
import type { VerbContext } from "../../verb-context.js";

/** Sends the conference's status callbacks for `events`, when it has a statusCallback that wants them. */
export async function sendEvents(
  ctx: VerbContext,
  conference: ConferenceRecord,
  events: readonly ConferenceEvent[],
): Promise<void> {
  const callback = conference.statusCallback;
  if (!callback) return;
  for (const e of events) {
    if (!callback.events.includes(e.event)) continue;
    await ctx.callback({
      url: callback.url,
      method: callback.method,
      params: eventParams(conference, e),
      key: `${conference.sid}.${e.sequence}`,
    });
  }
}

/** Twilio's parameters of a conference status callback. */
export function eventParams(conference: ConferenceRecord, e: ConferenceEvent): Record<string, string> {
  const params: Record<string, string> = {
    AccountSid: conference.accountSid,
    ConferenceSid: conference.sid,
    FriendlyName: conference.friendlyName,
    StatusCallbackEvent: e.event,
    SequenceNumber: String(e.sequence),
    Timestamp: rfc2822(e.at),
  };
  if (e.participant) Object.assign(params, participantParams(e.participant));
  if (e.reason) params.ReasonConferenceEnded = e.reason;
  if (e.callSidEnding) params.CallSidEndingConference = e.callSidEnding;
  return params;
}

function participantParams(p: ParticipantRecord): Record<string, string> {
  return {
    CallSid: p.callSid,
    Muted: String(p.muted),
    Hold: String(p.hold),
    Coaching: String(p.coaching),
    EndConferenceOnExit: String(p.endConferenceOnExit),
    StartConferenceOnEnter: String(p.startConferenceOnEnter),
    ...(p.label !== undefined && { ParticipantLabel: p.label }),
    ...(p.callSidToCoach !== undefined && { CallSidToCoach: p.callSidToCoach }),
  };
}
