// The stored Call resource, built from how the call ended (Twilio's fields, RFC 2822 dates).
import type { EndInput } from "../../machines/call.machine.js";
import { rfc2822 } from "./dates.js";
import { formatNumber } from "./phone.js";
import type { CallResource } from "./records.js";

/**
 * The Call resource; `endedAt` null describes a live call (no end time or duration yet). `end.arrivedAt`
 * and `endedAt` are the call's clock; `startedAt` is when the call began by the wall clock (default:
 * arrivedAt, which a call's clock starts at), so start_time is an instant a REST client can filter on
 * even at a time-scale below 1. end_time is start_time plus the call-clock time between them, so it
 * always agrees with the duration.
 */
export function callResource(
  end: EndInput,
  endedAt: number | null,
  createdAt: number,
  startedAt: number = end.arrivedAt,
): CallResource {
  const { facts } = end;
  const uri = `/2010-04-01/Accounts/${facts.accountSid}/Calls/${facts.callSid}`;
  // Twilio leaves duration empty for busy, failed and unanswered calls.
  const answered = end.answeredAt !== null && endedAt !== null;
  return {
    sid: facts.callSid,
    date_created: rfc2822(createdAt),
    // Never before date_created (a record written in the same second, or by a clock running behind).
    date_updated: rfc2822(Math.max(Date.now(), createdAt)),
    parent_call_sid: facts.parentCallSid ?? null,
    account_sid: facts.accountSid ?? "",
    to: facts.to,
    to_formatted: formatNumber(facts.to),
    from: facts.from,
    from_formatted: formatNumber(facts.from),
    phone_number_sid: facts.phoneNumberSid,
    status: end.status,
    start_time: rfc2822(startedAt),
    end_time: endedAt === null ? null : rfc2822(startedAt + (endedAt - end.arrivedAt)),
    duration: answered ? String(Math.round((endedAt - end.arrivedAt) / 1000)) : null,
    price: null,
    price_unit: "USD",
    direction: facts.direction,
    answered_by: null,
    api_version: facts.apiVersion,
    forwarded_from: null,
    group_sid: null,
    caller_name: null,
    queue_time: "0",
    trunk_sid: null,
    uri: `${uri}.json`,
    subresource_uris: {
      notifications: `${uri}/Notifications.json`,
      recordings: `${uri}/Recordings.json`,
      events: `${uri}/Events.json`,
      transcriptions: `${uri}/Transcriptions.json`,
    },
    error_code: end.error?.code ?? null,
    error_message: end.error?.message ?? null,
  };
}
