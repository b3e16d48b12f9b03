// The parameters of REST `POST Calls.json`, read as Twilio reads them, with Twilio's codes: the
// request's To and From, and the outbound part of the call's job (src/protocol/outbound.ts).
import { fail } from "../../errors/switchboard-error.js";
import { isE164 } from "../../model/phone.js";
import {
  MAX_TIME_LIMIT_S,
  MAX_TWIML_CHARS,
  OUTBOUND_EVENTS,
  type Outbound,
  type OutboundEvent,
} from "../../protocol/outbound.js";

/**
 * Create parameters Twilio takes that switchboard does not carry out: refused with 20422 naming the
 * parameter, never ignored (docs/outbound.md).
 */
export const UNSUPPORTED_CREATE = [
  "ApplicationSid",
  "AsyncAmd",
  "AsyncAmdStatusCallback",
  "AsyncAmdStatusCallbackMethod",
  "Byoc",
  "CallReason",
  "CallToken",
  "CallerId",
  "ClientNotificationUrl",
  "MachineDetection",
  "MachineDetectionSilenceTimeout",
  "MachineDetectionSpeechEndThreshold",
  "MachineDetectionSpeechThreshold",
  "MachineDetectionTimeout",
  "RecordingTrack",
  "SipAuthPassword",
  "SipAuthUsername",
  "Trim",
];

/** Twilio's default ringing time for a REST call, and its cap. */
const DEFAULT_TIMEOUT_S = 60;
const MAX_TIMEOUT_S = 600;

export type CreateBody = Record<string, string | string[] | undefined>;

/** The request's To, From and what the region needs to run the call, with Twilio's codes. */
export function readCreate(body: CreateBody): { to: string; from: string; outbound: Outbound } {
  const unsupported = UNSUPPORTED_CREATE.find((name) => body[name] !== undefined);
  if (unsupported)
    throw fail("invalidParameter", `switchboard does not support ${unsupported} on a new call`);
  const to = body.To === undefined ? "" : one(body.To, "To");
  const from = body.From === undefined ? "" : one(body.From, "From");
  if (!to) throw fail("noToNumber", "A 'To' phone number is required.");
  if (!from) throw fail("noFromNumber", "A 'From' phone number is required.");
  if (!isE164(to) && !/^sip:[^\s@]+@[^\s]+$/.test(to) && !/^client:[\w.-]{1,256}$/.test(to)) {
    throw fail(
      "invalidToNumber",
      `The 'To' number ${to} is not a valid phone number, SIP URI or client identifier.`,
    );
  }
  if (!isE164(from))
    throw fail("invalidFromNumber", `The 'From' number ${from} is not a valid phone number.`);
  const url = body.Url === undefined ? undefined : one(body.Url, "Url");
  const twiml = body.Twiml === undefined ? undefined : one(body.Twiml, "Twiml");
  if (!url && twiml === undefined)
    throw fail("noVoiceUrl", "Either a 'Url' or 'Twiml' parameter is required.");
  for (const name of ["Url", "FallbackUrl", "StatusCallback"] as const) {
    const value = body[name];
    if (value !== undefined && !/^https?:\/\/[^/\s]+/i.test(one(value, name))) {
      throw fail("invalidUrl", `${name} must be an absolute http or https URL: ${value}`);
    }
  }
  // Twilio: with both, the Url is fetched and the Twiml ignored (warning 32019, recorded by the region).
  if (!url && twiml !== undefined && twiml.length > MAX_TWIML_CHARS) {
    throw fail("twimlParamTooLong", `Twiml is ${twiml.length} characters; the limit is ${MAX_TWIML_CHARS}`);
  }
  const sendDigits = body.SendDigits === undefined ? undefined : one(body.SendDigits, "SendDigits");
  if (sendDigits !== undefined && !/^[0-9A-D#*wW]{1,32}$/.test(sendDigits)) {
    throw fail("invalidParameter", `SendDigits may hold 0-9, A-D, #, *, w and W (at most 32): ${sendDigits}`);
  }
  const record = recordOf(body);
  const timeLimitS = timeLimitOf(body.TimeLimit);
  const statusCallback =
    body.StatusCallback === undefined ? undefined : one(body.StatusCallback, "StatusCallback");
  const events = eventsOf(body.StatusCallbackEvent);
  return {
    to,
    from,
    outbound: {
      ...(url ? { url } : { twiml: twiml as string }),
      ...(url && twiml !== undefined && { twimlIgnored: true as const }),
      method: methodOf(body.Method, "Method"),
      ...(body.FallbackUrl !== undefined && { fallbackUrl: one(body.FallbackUrl, "FallbackUrl") }),
      fallbackMethod: methodOf(body.FallbackMethod, "FallbackMethod"),
      ...(statusCallback && {
        statusCallback: {
          url: statusCallback,
          method: methodOf(body.StatusCallbackMethod, "StatusCallbackMethod"),
          events,
        },
      }),
      timeoutS: timeoutOf(body.Timeout),
      ...(timeLimitS !== undefined && { timeLimitS }),
      ...(sendDigits && { sendDigits }),
      ...(record && { record }),
    },
  };
}

/** Record, RecordingChannels and RecordingStatusCallback*: the call kept from its answer. */
function recordOf(body: CreateBody): Outbound["record"] {
  const record = body.Record === undefined ? "false" : one(body.Record, "Record").toLowerCase();
  if (record !== "true" && record !== "false")
    throw fail("invalidParameter", `Record must be true or false: ${record}`);
  // Without Record=true, Twilio ignores RecordingChannels and RecordingStatusCallback*.
  if (record === "false") return undefined;
  const channels =
    body.RecordingChannels === undefined ? "mono" : one(body.RecordingChannels, "RecordingChannels");
  if (channels !== "mono" && channels !== "dual") {
    throw fail("invalidParameter", `RecordingChannels must be mono or dual: ${channels}`);
  }
  // A REST recording is stored once the call ends: `completed` is the one event switchboard sends.
  const events = body.RecordingStatusCallbackEvent;
  const asked = (events === undefined ? ["completed"] : Array.isArray(events) ? events : [events]).flatMap(
    (e) => e.split(/[\s,]+/).filter(Boolean),
  );
  const other = asked.find((e) => e !== "completed");
  if (other)
    throw fail("invalidParameter", `switchboard does not send RecordingStatusCallbackEvent ${other}`);
  const url =
    body.RecordingStatusCallback === undefined
      ? undefined
      : one(body.RecordingStatusCallback, "RecordingStatusCallback");
  if (url !== undefined && !/^https?:\/\/[^/\s]+/i.test(url)) {
    throw fail("invalidUrl", `RecordingStatusCallback must be an absolute http or https URL: ${url}`);
  }
  return {
    channels: channels === "dual" ? 2 : 1,
    ...(url && {
      statusCallback: {
        url,
        method: methodOf(body.RecordingStatusCallbackMethod, "RecordingStatusCallbackMethod"),
      },
    }),
  };
}

function one(value: string | string[], name: string): string {
  if (Array.isArray(value)) throw fail("invalidParameter", `${name} was given more than once`);
  return value;
}

function methodOf(value: string | string[] | undefined, name: string): "GET" | "POST" {
  return value === undefined ? "POST" : (one(value, name).toUpperCase() as "GET" | "POST");
}

/** StatusCallbackEvent: repeated, or space-separated as some clients send it; default `completed`. */
function eventsOf(value: string | string[] | undefined): OutboundEvent[] {
  if (value === undefined) return ["completed"];
  const events = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);
  const bad = events.find((e) => !(OUTBOUND_EVENTS as readonly string[]).includes(e));
  if (bad)
    throw fail("invalidParameter", `StatusCallbackEvent ${bad} is not one of ${OUTBOUND_EVENTS.join(", ")}`);
  return [...new Set(events)] as OutboundEvent[];
}

/**
 * TimeLimit: whole seconds the call may last once answered. More than the maximum call duration
 * (4 h) lasts 4 h, which every call is held to anyway (Twilio's default account limit).
 */
export function timeLimitOf(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = one(value, "TimeLimit");
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1)
    throw fail("invalidParameter", `TimeLimit must be a whole number of seconds, at least 1: ${text}`);
  return Math.min(n, MAX_TIME_LIMIT_S);
}

/** Timeout: whole seconds; Twilio rings at most 600 s, whatever is asked. */
function timeoutOf(value: string | string[] | undefined): number {
  if (value === undefined) return DEFAULT_TIMEOUT_S;
  const text = one(value, "Timeout");
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1)
    throw fail("invalidParameter", `Timeout must be a whole number of seconds: ${text}`);
  return Math.min(n, MAX_TIMEOUT_S);
}
