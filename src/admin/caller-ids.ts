// Verified caller IDs of an account (`switchboard caller-ids`, REST OutgoingCallerIds), in
// `sb_caller_ids`: added directly, since a self-hosted engine has nobody to verify them with (Twilio
// calls the number and asks for a code).
import { fail } from "../errors/switchboard-error.js";
import { rfc2822 } from "../model/dates.js";
import { isE164 } from "../model/phone.js";
import type { OutgoingCallerIdRecord } from "../model/records.js";
import { isSid, newSid } from "../model/sid.js";
import { callerIdKey, listCallerIds } from "../store/caller-ids.js";
import type { GlobalStores } from "../store/global.js";

type Stores = Pick<GlobalStores, "accounts" | "callerIds">;

/** Adds `phoneNumber` (E.164) as a verified caller ID; the existing one when it is there already. */
export async function addCallerId(
  stores: Stores,
  accountSid: string,
  phoneNumber: string,
  friendlyName?: string,
): Promise<OutgoingCallerIdRecord> {
  if (!isE164(phoneNumber)) {
    throw fail("phoneNumberInvalid", `${phoneNumber} is not a phone number in E.164 form (+15551234567)`);
  }
  if (!isSid("AC", accountSid) || !(await stores.accounts.get(accountSid))) {
    throw fail("notFound", `no account ${accountSid}`);
  }
  const key = callerIdKey(accountSid, phoneNumber);
  const existing = await stores.callerIds.get(key);
  if (existing) return existing;
  const now = rfc2822(Date.now());
  const added: OutgoingCallerIdRecord = {
    sid: newSid("PN"),
    account_sid: accountSid,
    phone_number: phoneNumber,
    friendly_name: friendlyName ?? phoneNumber,
    date_created: now,
    date_updated: now,
  };
  // create, not put: of two adds of one number at once, the second finds the first's.
  if (await stores.callerIds.create(key, added)) return added;
  return (await stores.callerIds.get(key)) ?? added;
}

/** The account's caller ID with this sid (`PN…`) or number; 20404 when it has none such. */
export async function findCallerId(
  stores: Stores,
  accountSid: string,
  sidOrNumber: string,
): Promise<OutgoingCallerIdRecord> {
  const found = isE164(sidOrNumber)
    ? await stores.callerIds.get(callerIdKey(accountSid, sidOrNumber))
    : (await listCallerIds(stores.callerIds, accountSid)).find((c) => c.sid === sidOrNumber);
  if (!found) throw fail("notFound", `no caller ID ${sidOrNumber}`);
  return found;
}

/** Renames a verified caller ID; 20404 when the account has none with that sid. */
export async function renameCallerId(
  stores: Stores,
  accountSid: string,
  sid: string,
  friendlyName: string,
): Promise<OutgoingCallerIdRecord> {
  const found = await findCallerId(stores, accountSid, sid);
  const renamed = { ...found, friendly_name: friendlyName, date_updated: rfc2822(Date.now()) };
  await stores.callerIds.put(callerIdKey(accountSid, found.phone_number), renamed);
  return renamed;
}

/** Removes a verified caller ID, by its sid or its number; 20404 when the account has none such. */
export async function removeCallerId(
  stores: Stores,
  accountSid: string,
  sidOrNumber: string,
): Promise<OutgoingCallerIdRecord> {
  const found = await findCallerId(stores, accountSid, sidOrNumber);
  await stores.callerIds.delete(callerIdKey(accountSid, found.phone_number));
  return found;
}
