// Live-call changes (DESIGN.md §3): a request on `sb.region.<r>.call.<sid>.control`, as the REST
// API's `POST Calls/{Sid}.json` sends it. The reply is the call's Call resource as it is now, or an
// error reply (service-error.ts) with Twilio's code.
import { z } from "zod";
import { fail } from "../errors/switchboard-error.js";
import type { CallResource } from "../model/records.js";
import { CallStatusSchema } from "./channel-events.js";
import { MAX_TIME_LIMIT_S } from "./outbound.js";

/** Twilio caps the `Twiml` parameter at 4000 characters (32018). */
export const MAX_TWIML_PARAM = 4000;

export const CallControlSchema = z.object({
  /** Fetch this URL now and run what it returns (Twilio's `Url`). */
  url: z.url({ protocol: /^https?$/ }).optional(),
  method: z.enum(["GET", "POST"]).optional(),
  /** Run this TwiML now (Twilio's `Twiml`). */
  twiml: z.string().optional(),
  /** End the call: `completed` hangs up a live call; `canceled` ends one not yet answered. */
  status: z.enum(["completed", "canceled"]).optional(),
  /**
   * Twilio's `TimeLimit`: the call may last this many seconds from its answer (one that has lasted
   * longer ends now). Added after the first version of this contract: optional.
   */
  timeLimitS: z.number().int().min(1).max(MAX_TIME_LIMIT_S).optional(),
});
// An empty request changes nothing and reads the call as it is now: the api asks so for a call too
// young to have a stored snapshot.
export type CallControl = z.infer<typeof CallControlSchema>;

export function parseCallControl(value: unknown): CallControl {
  const result = CallControlSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw fail(
      "invalidPayload",
      `invalid call update: ${issue?.path.join(".") || "payload"}: ${issue?.message}`,
    );
  }
  // With a Url too, the Twiml is not run (32019, call-control.ts), so its length does not matter.
  const { twiml, url } = result.data;
  if (twiml !== undefined && url === undefined && twiml.length > MAX_TWIML_PARAM) {
    throw fail("twimlParamTooLong", `Twiml is ${twiml.length} characters; the limit is ${MAX_TWIML_PARAM}`);
  }
  return result.data;
}

const nullableString = z.string().nullable();

/** The reply to a control request: the call's Call resource as it is now (model/records.ts). */
export const CallControlReplySchema = z.object({
  sid: z.string(),
  date_created: z.string(),
  date_updated: z.string(),
  parent_call_sid: nullableString,
  account_sid: z.string(),
  to: z.string(),
  to_formatted: z.string(),
  from: z.string(),
  from_formatted: z.string(),
  phone_number_sid: nullableString,
  status: CallStatusSchema,
  start_time: nullableString,
  end_time: nullableString,
  duration: nullableString,
  price: nullableString,
  price_unit: z.string(),
  direction: z.enum(["inbound", "outbound-api", "outbound-dial"]),
  answered_by: nullableString,
  api_version: z.string(),
  forwarded_from: nullableString,
  group_sid: nullableString,
  caller_name: nullableString,
  queue_time: z.string(),
  trunk_sid: nullableString,
  uri: z.string(),
  subresource_uris: z.record(z.string(), z.string()),
  error_code: z.number().nullable().optional(),
  error_message: nullableString.optional(),
});

/** Validates a control request's (decoded) reply: the call as it is now; 90002 when it is not one. */
export function readCallControlReply(value: unknown): CallResource {
  const parsed = CallControlReplySchema.safeParse(value);
  if (!parsed.success)
    throw fail("invalidPayload", `invalid call control reply: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
