// SIP trunks: `switchboard trunks add|list|remove`, and the check that a number or account names a
// trunk that exists. Only admin may write `sb_trunks` (docs/security.md).
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { fail } from "../errors/switchboard-error.js";
import { rfc2822 } from "../model/dates.js";
import type { AccountRecord, NumberConfig } from "../model/records.js";
import {
  checkFromDomain,
  checkTransport,
  checkTrunkName,
  normalizeCidr,
  parseHostPort,
  type TrunkRecord,
} from "../model/trunk.js";
import { buckets } from "../protocol/subjects.js";
import { type AdminStores, DEFAULT_ACCOUNT_KEY, type TrunkStores } from "../store/global.js";
import { JsonKv } from "../store/json-kv.js";
import { readTrunk } from "../store/trunks.js";

export interface AddTrunkOptions {
  name: string;
  /** `HOST[:PORT]`. */
  host: string;
  transport?: string;
  username?: string;
  password?: string;
  fromDomain?: string;
  inboundCidrs?: string[];
  /** Overwrite a trunk of that name (what names it keeps naming it); without it a taken name is refused. */
  replace?: boolean;
}

/** Validates and stores a trunk; every bad field is a 20422 naming it. */
export async function addTrunk(global: TrunkStores, opts: AddTrunkOptions): Promise<TrunkRecord> {
  const name = checkTrunkName(opts.name);
  const { host, port } = parseHostPort(opts.host);
  if ((opts.username === undefined) !== (opts.password === undefined)) {
    throw fail("invalidParameter", "a trunk's username and password go together: give both or neither");
  }
  if (opts.username !== undefined && !/^[^\s:@]{1,128}$/.test(opts.username)) {
    throw fail("invalidParameter", "the username must be 1-128 characters, without spaces, ':' or '@'");
  }
  // Checked without echoing it: the message must not carry the secret into a log or a terminal.
  if (opts.password !== undefined && !/^\S{1,256}$/.test(opts.password)) {
    throw fail("invalidParameter", "the password must be 1-256 characters, without spaces");
  }
  const now = rfc2822(Date.now());
  const existing = await readTrunk(global, name);
  const trunk: TrunkRecord = {
    name,
    host,
    port,
    transport: checkTransport(opts.transport ?? "udp"),
    username: opts.username ?? null,
    password: opts.password ?? null,
    from_domain: opts.fromDomain === undefined ? null : checkFromDomain(opts.fromDomain),
    inbound_cidrs: [...new Set((opts.inboundCidrs ?? []).map(normalizeCidr))],
    date_created: (opts.replace && existing?.date_created) || now,
    date_updated: now,
  };
  if (opts.replace) await global.trunks.put(name, trunk);
  else if (!(await global.trunks.create(name, trunk))) {
    throw fail(
      "invalidParameter",
      `a trunk named ${name} exists already (remove it first, or add --replace)`,
    );
  }
  return trunk;
}

/**
 * Throws 20404 unless a trunk of that name exists: numbers and accounts name only real trunks. The
 * caller opened `sb_trunks` (`openAdminStores`) to name one; without it naming one is a bug.
 */
export async function requireTrunk(stores: Partial<TrunkStores>, name: string): Promise<string> {
  checkTrunkName(name);
  if (!stores.trunks) throw new Error("naming a trunk needs sb_trunks opened (openAdminStores)");
  if (!(await readTrunk({ trunks: stores.trunks }, name))) {
    throw fail("notFound", `no trunk ${name} (add it with \`switchboard trunks add ${name} --host …\`)`);
  }
  return name;
}

/**
 * Removes a trunk that nothing names. A number or account that still names it would have its calls
 * fail, so removal is refused, listing who names it (a few, then how many more).
 */
export async function removeTrunk(nc: NatsConnection, global: AdminStores, name: string): Promise<void> {
  checkTrunkName(name);
  if (!(await readTrunk(global, name))) throw fail("notFound", `no trunk ${name}`);
  const users = await trunkReferences(nc, global, name);
  if (users.length > 0) {
    const shown = users.slice(0, 5).join(", ");
    const more = users.length > 5 ? ` and ${users.length - 5} more` : "";
    throw fail(
      "invalidParameter",
      `trunk ${name} is still named by ${shown}${more}: point them at another trunk (--trunk) or none (--no-trunk) first`,
    );
  }
  await global.trunks.delete(name);
}

/** Who names the trunk: `account AC…` and `number +E164 (region)`, accounts first. */
export async function trunkReferences(
  nc: NatsConnection,
  global: AdminStores,
  name: string,
): Promise<string[]> {
  const found: string[] = [];
  for await (const key of await global.accounts.kv.keys()) {
    if (key === DEFAULT_ACCOUNT_KEY) continue;
    const account: AccountRecord | undefined = await global.accounts.get(key);
    if (account?.outbound_trunk === name) found.push(`account ${account.sid}`);
  }
  // Every region's numbers bucket that exists: `sb_numbers_<region>`, streams KV_sb_numbers_<region>.
  const prefix = `KV_${buckets.numbers("")}`;
  const jsm = await jetstreamManager(nc);
  const kvm = new Kvm(nc);
  for await (const stream of jsm.streams.names()) {
    if (!stream.startsWith(prefix)) continue;
    const numbers = new JsonKv<NumberConfig>(await kvm.open(stream.slice("KV_".length)));
    const region = stream.slice(prefix.length);
    for await (const key of await numbers.kv.keys()) {
      const config = await numbers.get(key);
      if (config?.outbound_trunk === name) found.push(`number ${config.phone_number} (${region})`);
    }
  }
  return found;
}
