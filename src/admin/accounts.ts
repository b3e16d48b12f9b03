// Accounts: `switchboard accounts add|update|list|get` and `up`'s default account.
import { randomBytes } from "node:crypto";
import { fail } from "../errors/switchboard-error.js";
import { rfc2822 } from "../model/dates.js";
import type { AccountRecord } from "../model/records.js";
import { isSid, newSid } from "../model/sid.js";
import { accountStatusOf } from "../store/account-status.js";
import {
  DEFAULT_ACCOUNT_KEY,
  defaultAccountSid,
  type GlobalStores,
  setDefaultAccountSid,
  type TrunkStores,
} from "../store/global.js";
import { requireTrunk } from "./trunks.js";

export function newAuthToken(): string {
  return randomBytes(16).toString("hex");
}

export async function addAccount(
  stores: GlobalStores & Partial<TrunkStores>,
  opts: {
    sid: string;
    token: string;
    friendlyName?: string;
    makeDefault?: boolean;
    /** Sign webhooks with this shared key (Twilio's Webhooks Rules) instead of the auth token. */
    signingKey?: AccountRecord["webhook_signing_key"];
    /** The trunk its numbers' calls go out through (unless a number names its own); null: none. */
    trunk?: string | null;
    /** Twilio's "Enforce HTTP Auth on Media URLs"; unchanged (default off) when not given. */
    enforceMediaAuth?: boolean;
  },
): Promise<AccountRecord> {
  if (!isSid("AC", opts.sid))
    throw fail("invalidPayload", `account sid must be AC followed by 32 hex digits`);
  if (!/^\S{8,128}$/.test(opts.token))
    throw fail("invalidPayload", "auth token must be 8-128 characters, no spaces");
  const trunk = opts.trunk ? await requireTrunk(stores, opts.trunk) : opts.trunk;
  const now = rfc2822(Date.now());
  const existing = await stores.accounts.get(opts.sid);
  const account: AccountRecord = {
    sid: opts.sid,
    auth_token: opts.token,
    friendly_name: opts.friendlyName ?? existing?.friendly_name ?? `switchboard ${opts.sid.slice(0, 8)}`,
    status: "active",
    date_created: existing?.date_created ?? now,
    date_updated: now,
    webhook_signing_key:
      opts.signingKey === undefined ? (existing?.webhook_signing_key ?? null) : opts.signingKey,
    outbound_trunk: trunk === undefined ? (existing?.outbound_trunk ?? null) : trunk,
    enforce_media_auth: opts.enforceMediaAuth ?? existing?.enforce_media_auth ?? false,
  };
  await stores.accounts.put(opts.sid, account);
  // The edges' view of it, after the account itself: a crash in between is mended by the backfill.
  await stores.accountStatus.put(opts.sid, accountStatusOf(account));
  if (opts.makeDefault) await setDefaultAccountSid(stores, opts.sid);
  return account;
}

/**
 * Changes an existing account's settings (`switchboard accounts update`): what `changes` gives, the
 * rest (token, status, signing key) as stored; 20404 when it does not exist. Its status is
 * unchanged, so the edges' copy (`sb_account_status`) needs no write.
 */
export async function updateAccount(
  stores: GlobalStores & Partial<TrunkStores>,
  sid: string,
  changes: { friendlyName?: string; enforceMediaAuth?: boolean; trunk?: string | null },
): Promise<AccountRecord> {
  const existing = await stores.accounts.get(sid);
  if (!existing) throw fail("notFound", `no account ${sid}`);
  const trunk = changes.trunk ? await requireTrunk(stores, changes.trunk) : changes.trunk;
  const account: AccountRecord = {
    ...existing,
    ...(changes.friendlyName !== undefined && { friendly_name: changes.friendlyName }),
    ...(changes.enforceMediaAuth !== undefined && { enforce_media_auth: changes.enforceMediaAuth }),
    ...(trunk !== undefined && { outbound_trunk: trunk }),
    date_updated: rfc2822(Date.now()),
  };
  await stores.accounts.put(sid, account);
  return account;
}

/** The default account `up` uses: from the environment, else the stored one, else a new one. */
export async function ensureDefaultAccount(
  stores: GlobalStores,
  env: { sid?: string; token?: string },
): Promise<{ account: AccountRecord; created: boolean }> {
  if (env.sid && env.token) {
    return {
      account: await addAccount(stores, { sid: env.sid, token: env.token, makeDefault: true }),
      created: false,
    };
  }
  const sid = await defaultAccountSid(stores);
  const existing = sid ? await stores.accounts.get(sid) : undefined;
  if (existing) return { account: existing, created: false };
  const account = await addAccount(stores, { sid: newSid("AC"), token: newAuthToken(), makeDefault: true });
  return { account, created: true };
}

/** Every stored account, by sid, with which one is the default (numbers added without --account). */
export async function listAccounts(
  stores: GlobalStores,
): Promise<{ accounts: AccountRecord[]; defaultSid: string | undefined }> {
  const sids: string[] = [];
  for await (const key of await stores.accounts.kv.keys()) if (key !== DEFAULT_ACCOUNT_KEY) sids.push(key);
  const found = await Promise.all(sids.sort().map((sid) => stores.accounts.get(sid)));
  return {
    accounts: found.filter((a): a is AccountRecord => a !== undefined),
    defaultSid: await defaultAccountSid(stores),
  };
}

/** One account; 20404 when there is none with that sid. */
export async function getAccount(stores: GlobalStores, sid: string): Promise<AccountRecord> {
  const account = isSid("AC", sid) ? await stores.accounts.get(sid) : undefined;
  if (!account) throw fail("notFound", `no account ${sid}`);
  return account;
}
