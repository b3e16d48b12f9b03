// `sb_caller_ids` (global): the accounts' verified caller IDs, keyed `<AccountSid>.<digits>` so a
// <Dial callerId> check is one read and an account's list is one key filter. Its own bucket, not a
// field of the account's record: the api writes caller IDs and is denied writes to `sb_accounts`.
import { numberKey } from "../model/phone.js";
import type { NumberConfig, OutgoingCallerIdRecord, RoutingEntry } from "../model/records.js";
import type { JsonKv } from "./json-kv.js";

export const CALLER_IDS_BUCKET = "sb_caller_ids";

export const callerIdKey = (accountSid: string, number: string) => `${accountSid}.${numberKey(number)}`;

/** Whether `number` (E.164) is one of the account's verified caller IDs. */
export async function isVerifiedCallerId(
  callerIds: JsonKv<OutgoingCallerIdRecord>,
  accountSid: string,
  number: string,
): Promise<boolean> {
  return (await callerIds.get(callerIdKey(accountSid, number))) !== undefined;
}

/** The account's verified caller IDs, by number. */
export async function listCallerIds(
  callerIds: JsonKv<OutgoingCallerIdRecord>,
  accountSid: string,
): Promise<OutgoingCallerIdRecord[]> {
  const keys: string[] = [];
  for await (const key of await callerIds.kv.keys(`${accountSid}.*`)) keys.push(key);
  const found = await Promise.all(keys.map((key) => callerIds.get(key)));
  return found
    .filter((c): c is OutgoingCallerIdRecord => c !== undefined)
    .sort((a, b) => (a.phone_number < b.phone_number ? -1 : 1));
}

/** What placing an outbound call reads to check its From (REST `POST Calls.json`, 21210). */
export interface CallerIdStores {
  routing: JsonKv<RoutingEntry>;
  /** A region's numbers (`sb_numbers_<r>`). */
  numbers(region: string): Promise<JsonKv<NumberConfig>>;
  callerIds: JsonKv<OutgoingCallerIdRecord>;
}

/** What a call from one of the account's caller IDs is placed under. */
export interface CallerId {
  /** Its number's SID, or its verified caller ID's (`PN…`): the call's phone_number_sid. */
  sid: string;
  /** The number's config, from the region that routes it, when it is one of the account's numbers. */
  number?: NumberConfig;
}

/**
 * The caller ID the account places a call from `from` (E.164) under: one of its numbers (the route and
 * the config in that region name the account; numbers are the account's in every region), or one of
 * its verified caller IDs; undefined when it may not (21210). Where the call runs is the request's
 * region, not the number's.
 */
export async function callerIdOf(
  stores: CallerIdStores,
  accountSid: string,
  from: string,
): Promise<CallerId | undefined> {
  const key = numberKey(from);
  const route = await stores.routing.get(key);
  if (route && (route.accountSid === undefined || route.accountSid === accountSid)) {
    const config = await (await stores.numbers(route.region)).get(key);
    if (config?.account_sid === accountSid) return { sid: config.sid, number: config };
  }
  const verified = await stores.callerIds.get(callerIdKey(accountSid, from));
  return verified && { sid: verified.sid };
}
