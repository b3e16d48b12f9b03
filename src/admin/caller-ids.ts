// Verified caller IDs of an account (`switchboard caller-ids`, REST OutgoingCallerIds): added
// directly, since a self-hosted engine has no telephone to verify them with (Twilio calls the number
// and asks for a code). Each change is a compare-and-set on the account's record.
import { fail } from "../errors/switchboard-error.js";
import { rfc2822 } from "../model/dates.js";
import { isE164 } from "../model/phone.js";
import type { AccountRecord, OutgoingCallerIdRecord } from "../model/records.js";
import { isSid, newSid } from "../model/sid.js";
import { mutate } from "../store/cas-kv.js";
import type { GlobalStores } from "../store/global.js";

type Change<R> = (account: AccountRecord) => { account?: AccountRecord; result: R };

async function changeAccount<R>(stores: GlobalStores, accountSid: string, change: Change<R>): Promise<R> {
  if (!isSid("AC", accountSid)) throw fail("notFound", `no account ${accountSid}`);
  const { result } = await mutate<AccountRecord, R | undefined>(stores.accounts.kv, accountSid, (current) => {
    if (!current) return { value: undefined, result: undefined };
    const { account, result } = change(current);
    return { value: account, result };
  });
  if (result === undefined) throw fail("notFound", `no account ${accountSid}`);
  return result;
}

/** Adds `phoneNumber` (E.164) as a verified caller ID; the existing one when it is there already. */
export function addCallerId(
  stores: GlobalStores,
  accountSid: string,
  phoneNumber: string,
  friendlyName?: string,
): Promise<OutgoingCallerIdRecord> {
  if (!isE164(phoneNumber)) {
    throw fail("phoneNumberInvalid", `${phoneNumber} is not a phone number in E.164 form (+15551234567)`);
  }
  return changeAccount(stores, accountSid, (account) => {
    const ids = account.outgoing_caller_ids ?? {};
    const existing = Object.values(ids).find((c) => c.phone_number === phoneNumber);
    if (existing) return { result: existing };
    const now = rfc2822(Date.now());
    const added: OutgoingCallerIdRecord = {
      sid: newSid("PN"),
      phone_number: phoneNumber,
      friendly_name: friendlyName ?? phoneNumber,
      date_created: now,
      date_updated: now,
    };
    return { account: { ...account, outgoing_caller_ids: { ...ids, [added.sid]: added } }, result: added };
  });
}

/** Renames a verified caller ID; 20404 when the account has none with that sid. */
export function renameCallerId(
  stores: GlobalStores,
  accountSid: string,
  sid: string,
  friendlyName: string,
): Promise<OutgoingCallerIdRecord> {
  return changeAccount(stores, accountSid, (account) => {
    const found = account.outgoing_caller_ids?.[sid];
    if (!found) throw fail("notFound", `no caller ID ${sid}`);
    const renamed = { ...found, friendly_name: friendlyName, date_updated: rfc2822(Date.now()) };
    return {
      account: { ...account, outgoing_caller_ids: { ...account.outgoing_caller_ids, [sid]: renamed } },
      result: renamed,
    };
  });
}

/** Removes a verified caller ID, by its sid or its number; 20404 when the account has none such. */
export function removeCallerId(
  stores: GlobalStores,
  accountSid: string,
  sidOrNumber: string,
): Promise<OutgoingCallerIdRecord> {
  return changeAccount(stores, accountSid, (account) => {
    const ids = { ...account.outgoing_caller_ids };
    const found = ids[sidOrNumber] ?? Object.values(ids).find((c) => c.phone_number === sidOrNumber);
    if (!found) throw fail("notFound", `no caller ID ${sidOrNumber}`);
    delete ids[found.sid];
    return { account: { ...account, outgoing_caller_ids: ids }, result: found };
  });
}
