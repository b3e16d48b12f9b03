// The region's durable outbox of callbacks (stream SB_CALLBACKS_<R>, subject
// `sb.region.<r>.callbacks`): what a call's verbs, its status changes and the api's conference
// changes queue, and the region's workers send signed (region/outbox/status-callbacks.ts).
import { z } from "zod";
import { fail } from "../errors/switchboard-error.js";
import { rfc2822 } from "../model/dates.js";
import type { ConferenceEvent, ConferenceRecord, ParticipantRecord } from "../model/rooms.js";
import { CallStatusSchema } from "./channel-events.js";

/** The call a callback is about: the facts every webhook request carries (machines/call.types.ts). */
export const CallFactsSchema = z.object({
  callSid: z.string(),
  accountSid: z.string().nullable(),
  to: z.string(),
  from: z.string(),
  region: z.string(),
  edge: z.string(),
  direction: z.enum(["inbound", "outbound-api", "outbound-dial"]),
  parentCallSid: z.string().optional(),
  apiVersion: z.string(),
  phoneNumberSid: z.string().nullable(),
  sipHeaders: z.record(z.string(), z.string()).optional(),
  sip: z.object({ callId: z.string(), sourceIp: z.string().optional() }).optional(),
  geo: z.record(z.string(), z.string()).optional(),
});

const method = z.enum(["GET", "POST"]);

/** A status callback of the call's own progress (spec §5): its parameters are built when it is sent. */
export const StatusCallbackSchema = z.object({
  facts: CallFactsSchema,
  url: z.string(),
  method,
  event: z.object({
    callStatus: CallStatusSchema,
    /** Seconds the call lasted; for terminal events. */
    callDuration: z.number().optional(),
    /** 0 for the call's first status callback, then 1, 2, … */
    sequenceNumber: z.number().int().min(0),
    /** When the event happened (ms since epoch). */
    at: z.number(),
    /** A SIP callee's final response, when the call's SIP leg met one (SipResponseCode). */
    sipResponseCode: z.number().int().min(100).max(699).optional(),
  }),
});
export type StatusCallback = z.infer<typeof StatusCallbackSchema>;

/**
 * Any other asynchronous request made about a call (recordingStatusCallback, a Dial's or a
 * Conference's statusCallback, partialResultCallback…): sent with the parameters given.
 */
export const VerbCallbackSchema = z.object({
  facts: CallFactsSchema,
  url: z.string(),
  method,
  params: z.record(z.string(), z.string()),
  /** Names this request within the call (e.g. `RE….completed`): the same key is sent once. */
  key: z.string().min(1),
  /** Not sent before this time (ms since the epoch, wall clock): a transcription lands after its recording. */
  notBefore: z.number().optional(),
});
export type VerbCallback = z.infer<typeof VerbCallbackSchema>;

export const OutboxCallbackSchema = z.union([VerbCallbackSchema, StatusCallbackSchema]);
export type OutboxCallback = z.infer<typeof OutboxCallbackSchema>;

/** Validates a decoded outbox message (90002 when it is not a callback). */
export function parseOutboxCallback(value: unknown): OutboxCallback {
  const parsed = OutboxCallbackSchema.safeParse(value);
  if (!parsed.success) throw fail("invalidPayload", `invalid callback: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** The callbacks a conference's statusCallback asked for among `events` (without the call's facts). */
export function conferenceCallbacks(
  conference: ConferenceRecord,
  events: readonly ConferenceEvent[],
): Omit<VerbCallback, "facts">[] {
  const callback = conference.statusCallback;
  if (!callback) return [];
  return events
    .filter((e) => callback.events.includes(e.event))
    .map((e) => ({
      url: callback.url,
      method: callback.method,
      params: conferenceEventParams(conference, e),
      key: `${conference.sid}.${e.sequence}`,
    }));
}

/** Twilio's parameters of a conference status callback. */
export function conferenceEventParams(
  conference: ConferenceRecord,
  e: ConferenceEvent,
): Record<string, string> {
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
