// `sb_account_status`: which accounts exist and their status, without their secrets. Edges refuse
// offers naming an unknown account and need nothing more, so they read this bucket and are denied
// `sb_accounts` (docs/security.md). Whoever writes an account writes its status here too.
import type { AccountRecord } from "../model/records.js";
import type { JsonKv } from "./json-kv.js";

export const ACCOUNT_STATUS_BUCKET = "sb_account_status";

/** An account as an edge may see it: no token, no signing key, no name. */
export interface AccountStatus {
  sid: string;
  status: AccountRecord["status"];
}

export const accountStatusOf = (a: AccountRecord): AccountStatus => ({ sid: a.sid, status: a.status });

/**
 * Writes the status of every account in `accounts` that `status` lacks or has stale: accounts made
 * before this bucket existed (an upgrade) become known to edges. Keys that are not account sids
 * (`_default`) are skipped. Returns how many it wrote.
 */
export async function backfillAccountStatus(
  accounts: JsonKv<AccountRecord>,
  status: JsonKv<AccountStatus>,
): Promise<number> {
  let written = 0;
  for await (const key of await accounts.kv.keys()) {
    if (!key.startsWith("AC")) continue;
    const account = await accounts.get(key);
    if (!account?.sid) continue;
    const want = accountStatusOf(account);
    const have = await status.get(key);
    if (have?.sid === want.sid && have.status === want.status) continue;
    await status.put(key, want);
    written++;
  }
  return written;
}
