// The parameters Twilio sends with every request about a call (twilio-voice-spec.md §2).
import type { CallFacts } from "../../machines/call.machine.js";
import { rfc2822 } from "../model/dates.js";
import type { CallStatus } from "../model/records.js";

// Twilio repeats the geographic parameters under legacy Caller*/Called* names.
const LEGACY_GEO: Record<string, string> = {
  FromCity: "CallerCity",
  FromState: "CallerState",
  FromZip: "CallerZip",
  FromCountry: "CallerCountry",
  ToCity: "CalledCity",
  ToState: "CalledState",
  ToZip: "CalledZip",
  ToCountry: "CalledCountry",
};

export function callParams(
  facts: CallFacts,
  callStatus: CallStatus,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const params: Record<string, string> = {
    CallSid: facts.callSid,
    AccountSid: facts.accountSid ?? "",
    From: facts.from,
    To: facts.to,
    CallStatus: callStatus,
    ApiVersion: facts.apiVersion,
    Direction: facts.direction,
    Caller: facts.from,
    Called: facts.to,
    ...(facts.parentCallSid && { ParentCallSid: facts.parentCallSid }),
  };
  for (const [key, value] of Object.entries(facts.geo ?? {})) {
    params[key] = value;
    const legacy = LEGACY_GEO[key];
    if (legacy) params[legacy] = value;
  }
  if (facts.sip) {
    params.SipCallId = facts.sip.callId;
    if (facts.sip.sourceIp) params.SipSourceIp = facts.sip.sourceIp;
  }
  for (const [name, value] of Object.entries(facts.sipHeaders ?? {})) params[`SipHeader_${name}`] = value;
  return Object.assign(params, extra);
}

export interface StatusEvent {
  callStatus: CallStatus;
  /** Seconds the call lasted; for terminal events. */
  callDuration?: number;
  /** 0 for the call's first status callback, then 1, 2, … */
  sequenceNumber: number;
  /** When the event happened (ms since epoch). */
  at: number;
  /** A terminal event's SIP final response, when a SIP leg met one; otherwise it follows the status. */
  sipResponseCode?: number;
}

/**
 * The SipResponseCode a terminal status callback carries when no SIP response was met (a simulated
 * or hosted callee): what a SIP callee would have answered for that outcome (Twilio's examples: 404
 * unreachable, 487 for a Timeout reached before the answer).
 */
const SIP_CODE_OF: Partial<Record<CallStatus, number>> = {
  completed: 200,
  busy: 486,
  "no-answer": 487,
  canceled: 487,
  failed: 404,
};

/** A status callback's parameters: the call's standard ones plus the progress fields (spec §5). */
export function statusCallbackParams(facts: CallFacts, event: StatusEvent): Record<string, string> {
  const sipResponseCode = event.sipResponseCode ?? SIP_CODE_OF[event.callStatus];
  return callParams(facts, event.callStatus, {
    CallbackSource: "call-progress-events",
    SequenceNumber: String(event.sequenceNumber),
    Timestamp: rfc2822(event.at),
    ...(event.callDuration !== undefined && {
      CallDuration: String(event.callDuration),
      // Billed minutes, rounded up; a call that never connected bills none.
      Duration: String(Math.ceil(event.callDuration / 60)),
    }),
    ...(sipResponseCode !== undefined && { SipResponseCode: String(sipResponseCode) }),
  });
}
