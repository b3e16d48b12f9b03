// `sb_caller_ids` (global): the accounts' verified caller IDs, keyed `<AccountSid>.<digits>` so a
// <Dial callerId> check is one read and an account's list is one key filter. Its own bucket, not a
// field of the account's record: the api writes caller IDs and is denied writes to `sb_accounts`.
import { numberKey } from "../model/phone.js";
import type { OutgoingCallerIdRecord } from "../model/records.js";
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
