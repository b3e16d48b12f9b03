// The global buckets every edge and region reads: the routing table and the accounts.

import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { buckets } from "../bus/subjects.js";
import type { AccountRecord, RoutingEntry } from "../model/records.js";
import { JsonKv } from "./json-kv.js";
import { retrying } from "./retry.js";

export interface GlobalStores {
  routing: JsonKv<RoutingEntry>;
  accounts: JsonKv<AccountRecord>;
}

/** The key in `sb_accounts` that names the default account (`up` sets it). */
export const DEFAULT_ACCOUNT_KEY = "_default";

export async function openGlobalStores(nc: NatsConnection): Promise<GlobalStores> {
  const kvm = new Kvm(nc);
  const [routing, accounts] = await Promise.all([
    retrying(`open bucket ${buckets.routing}`, () => kvm.create(buckets.routing, { history: 5 })),
    retrying(`open bucket ${buckets.accounts}`, () => kvm.create(buckets.accounts, { history: 1 })),
  ]);
  return { routing: new JsonKv(routing), accounts: new JsonKv(accounts) };
}

export async function defaultAccountSid(stores: GlobalStores): Promise<string | undefined> {
  const pointer = (await stores.accounts.kv
    .get(DEFAULT_ACCOUNT_KEY)
    .then((e) => (e ? JsonKv.decode<unknown>(e) : undefined))) as { sid?: string } | undefined;
  return pointer?.sid;
}

export async function setDefaultAccountSid(stores: GlobalStores, sid: string): Promise<void> {
  await stores.accounts.kv.put(DEFAULT_ACCOUNT_KEY, JSON.stringify({ sid }));
}
