// The stored records, with Twilio's field names so the REST API can return them as they are.
import type { HttpMethod } from "./http.js";

/** `sb_accounts`: AccountSid -> account. The token is kept because signing webhooks needs it. */
export interface AccountRecord {
  sid: string;
  auth_token: string;
  friendly_name: string;
  status: "active" | "suspended" | "closed";
  date_created: string;
  date_updated: string;
  /** When set, webhooks are signed with this shared key instead of the auth token. */
  webhook_signing_key?: { sid: string; secret: string; algorithm: "HMAC_SHA1" | "HMAC_SHA256" } | null;
  /** The trunk (`sb_trunks` name) its numbers' calls go out through, unless a number names its own. */
  outbound_trunk?: string | null;
  /**
   * Twilio's "Enforce HTTP Auth on Media URLs" (a Console setting, no REST field): recording media
   * needs the account's credentials. Off (absent) by default, as on accounts that never turned it on.
   */
  enforce_media_auth?: boolean;
}

/**
 * `sb_caller_ids` (global): a verified caller ID (Twilio's OutgoingCallerId), a number besides its own
 * that an account may show as the caller ID of the calls it places (<Dial callerId>).
 */
export interface OutgoingCallerIdRecord {
  /** `PN…`, as Twilio's. */
  sid: string;
  account_sid: string;
  phone_number: string;
  friendly_name: string;
  date_created: string;
  date_updated: string;
}

/** `sb_routing` (global): number digits -> the region that processes its calls. */
export interface RoutingEntry {
  region: string;
  friendlyName: string;
  dateUpdated: string;
  /** The owning account, when known (Routes v2 `account_sid`). */
  accountSid?: string;
}

/** `sb_numbers_<region>`: number digits -> that region's IncomingPhoneNumber config. */
export interface NumberConfig {
  sid: string;
  account_sid: string;
  phone_number: string;
  friendly_name: string;
  voice_url: string | null;
  voice_method: HttpMethod;
  voice_fallback_url: string | null;
  voice_fallback_method: HttpMethod;
  status_callback: string | null;
  status_callback_method: HttpMethod;
  api_version: string;
  date_created: string;
  date_updated: string;
  /** The trunk (`sb_trunks` name) this number's calls go out through; wins over its account's. */
  outbound_trunk?: string | null;
}

/** Twilio's call statuses, in the order a call can pass through them: the one list of them. */
export const CALL_STATUSES = [
  "queued",
  "ringing",
  "in-progress",
  "completed",
  "busy",
  "failed",
  "no-answer",
  "canceled",
] as const;

export type CallStatus = (typeof CALL_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<CallStatus> = new Set([
  "completed",
  "busy",
  "failed",
  "no-answer",
  "canceled",
]);

/** `sb_calls_<region>`: CallSid -> Call resource (Twilio's shape, DESIGN.md §5). */
export interface CallResource {
  sid: string;
  date_created: string;
  date_updated: string;
  parent_call_sid: string | null;
  account_sid: string;
  to: string;
  to_formatted: string;
  from: string;
  from_formatted: string;
  phone_number_sid: string | null;
  status: CallStatus;
  start_time: string | null;
  end_time: string | null;
  duration: string | null;
  price: string | null;
  price_unit: string;
  direction: "inbound" | "outbound-api" | "outbound-dial";
  answered_by: string | null;
  api_version: string;
  forwarded_from: string | null;
  group_sid: string | null;
  caller_name: string | null;
  queue_time: string;
  trunk_sid: string | null;
  uri: string;
  subresource_uris: Record<string, string>;
  /** switchboard's addition: the error that ended the call, if one did (Twilio keeps it in Notifications). */
  error_code?: number | null;
  error_message?: string | null;
}
