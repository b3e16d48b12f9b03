// The parameters Twilio sends with every request about a call (twilio-voice-spec.md §2).
import type { CallFacts } from "../../machines/call.machine.js";
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
  };
  for (const [key, value] of Object.entries(facts.geo ?? {})) {
    params[key] = value;
    const legacy = LEGACY_GEO[key];
    if (legacy) params[legacy] = value;
  }
  for (const [name, value] of Object.entries(facts.sipHeaders ?? {})) params[`SipHeader_${name}`] = value;
  return Object.assign(params, extra);
}
