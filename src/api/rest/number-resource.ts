// The IncomingPhoneNumber resource as Twilio shapes it, from a number's config in a region; the
// fields switchboard has no use for (SMS, emergency, addresses) carry Twilio's neutral values.
import type { NumberConfig } from "../../model/records.js";
import { resource } from "./schemas.js";

export const numberSchema = resource("IncomingPhoneNumber", {
  sid: "string",
  account_sid: "string",
  phone_number: "string",
  friendly_name: "string",
  voice_url: "string?",
  voice_method: "string",
  voice_fallback_url: "string?",
  voice_fallback_method: "string",
  status_callback: "string?",
  status_callback_method: "string",
  capabilities: "object",
  date_created: "string",
  date_updated: "string",
  uri: "string",
  outbound_trunk: "string?",
});

/** Twilio's IncomingPhoneNumber resource for a number's config in a region. */
export function incomingPhoneNumber(c: NumberConfig): Record<string, unknown> {
  const uri = `/2010-04-01/Accounts/${c.account_sid}/IncomingPhoneNumbers/${c.sid}`;
  return {
    account_sid: c.account_sid,
    address_sid: null,
    address_requirements: "none",
    api_version: c.api_version,
    beta: false,
    capabilities: { voice: true, sms: false, mms: false, fax: false },
    date_created: c.date_created,
    date_updated: c.date_updated,
    friendly_name: c.friendly_name,
    identity_sid: null,
    phone_number: c.phone_number,
    origin: "hosted",
    sid: c.sid,
    sms_application_sid: null,
    sms_fallback_method: "POST",
    sms_fallback_url: null,
    sms_method: "POST",
    sms_url: null,
    status_callback: c.status_callback,
    status_callback_method: c.status_callback_method,
    trunk_sid: null,
    uri: `${uri}.json`,
    voice_receive_mode: "voice",
    voice_application_sid: null,
    voice_caller_id_lookup: false,
    voice_fallback_method: c.voice_fallback_method,
    voice_fallback_url: c.voice_fallback_url,
    voice_method: c.voice_method,
    voice_url: c.voice_url,
    emergency_status: "Inactive",
    emergency_address_sid: null,
    emergency_address_status: "unregistered",
    bundle_sid: null,
    status: "in-use",
    type: "local",
    subresource_uris: { assigned_add_ons: `${uri}/AssignedAddOns.json` },
    // switchboard's addition: the trunk its calls go out through. Not `trunk_sid`, which on Twilio
    // hands the number's incoming calls to a trunk instead of the voice URL.
    outbound_trunk: c.outbound_trunk ?? null,
  };
}

/** Twilio's PhoneNumber filter: all or part of a number, '*' standing for any one digit. */
export function numberPattern(value: string): RegExp {
  const escaped = value
    .replace(/[^0-9*+]/g, "")
    .replace(/\+/g, "\\+")
    .replace(/\*/g, "\\d");
  return new RegExp(escaped);
}
