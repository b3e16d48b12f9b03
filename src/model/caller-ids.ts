// Verified caller IDs (Twilio's OutgoingCallerIds): numbers an account may show as the caller ID of
// the calls it places, besides its own numbers. Kept on the account's record (`sb_accounts`), which
// every region worker already watches, so checking a <Dial callerId> reads no bucket.
import type { AccountRecord } from "./records.js";

/** Whether `number` (E.164) is one of the account's verified caller IDs. */
export function isVerifiedCallerId(account: AccountRecord | undefined, number: string): boolean {
  return Object.values(account?.outgoing_caller_ids ?? {}).some((c) => c.phone_number === number);
}
