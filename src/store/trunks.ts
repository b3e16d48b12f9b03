// Reading `sb_trunks`: one trunk, all of them, the trunk a call from a number goes out through, and
// a watched copy whose inbound networks a running SIP gateway admits (docs/sip.md, "Trunks").
import type { KV } from "@nats-io/kv";
import { fail } from "../errors/switchboard-error.js";
import type { AccountRecord, NumberConfig } from "../model/records.js";
import { DEFAULT_SIP_PORT, parseTrunkRecord, type TrunkRecord } from "../model/trunk.js";
import type { Originate } from "../protocol/sip-legs.js";
import type { TrunkStores } from "./global.js";
import { JsonKv } from "./json-kv.js";
import { WatchedKv } from "./watched-kv.js";

/** One trunk by name; undefined when there is none (or the stored value is not a trunk). */
export async function readTrunk(global: TrunkStores, name: string): Promise<TrunkRecord | undefined> {
  const entry = await global.trunks.kv.get(name);
  if (!entry) return undefined;
  try {
    return parseTrunkRecord(JsonKv.decode<unknown>(entry));
  } catch {
    // Not JSON (written by hand): no trunk, as for a value of the wrong shape.
    return undefined;
  }
}

/** Every trunk, by name. */
export async function readTrunks(global: TrunkStores): Promise<TrunkRecord[]> {
  const names: string[] = [];
  for await (const key of await global.trunks.kv.keys()) names.push(key);
  const found = await Promise.all(names.sort().map((name) => readTrunk(global, name)));
  return found.filter((t): t is TrunkRecord => t !== undefined);
}

/**
 * The name of the trunk a call from this number goes out through: the number's own, else its
 * account's, else none (the simulated network, as `<Dial>` without a trunk does today).
 */
export function outboundTrunkFor(
  number: Pick<NumberConfig, "outbound_trunk"> | undefined,
  account: Pick<AccountRecord, "outbound_trunk"> | undefined,
): string | undefined {
  return number?.outbound_trunk ?? account?.outbound_trunk ?? undefined;
}

/**
 * The trunk itself, looked up by `trunk` (a watched copy's `get`, or a bucket read). A name whose
 * trunk is gone (removed after a race with the reference check) is 20404, never a silent fallback
 * to the simulated network.
 */
export async function resolveOutboundTrunk(
  trunk: (name: string) => TrunkRecord | undefined | Promise<TrunkRecord | undefined>,
  number: Pick<NumberConfig, "outbound_trunk"> | undefined,
  account: Pick<AccountRecord, "outbound_trunk"> | undefined,
): Promise<TrunkRecord | undefined> {
  const name = outboundTrunkFor(number, account);
  if (name === undefined) return undefined;
  const found = await trunk(name);
  if (!found) throw fail("notFound", `trunk ${name} is named for outbound calls but does not exist`);
  return found;
}

/**
 * An originate that names its trunk (`trunk`, the region's <Dial><Number>) made ready to send: the
 * Request-URI's host is the trunk's (the region wrote the trunk's name there, as it may not read the
 * trunk), the INVITE goes to the trunk's address with its credentials, and From carries its
 * from_domain (else its host). Called by the gateway, which reads `sb_trunks`; an originate without
 * `trunk` is returned as it is.
 */
export function throughTrunk(originate: Originate, trunk: TrunkRecord): Originate {
  const user = /^sips?:([^@;?]+)@/i.exec(originate.uri)?.[1] ?? "";
  const host = trunk.host.includes(":") && !trunk.host.startsWith("[") ? `[${trunk.host}]` : trunk.host;
  return {
    ...originate,
    uri: `sip:${user}@${host}${trunk.port === DEFAULT_SIP_PORT ? "" : `:${trunk.port}`}`,
    nextHop: { host: trunk.host, port: trunk.port, transport: trunk.transport },
    ...(trunk.username !== null && { auth: { username: trunk.username, password: trunk.password ?? "" } }),
    from: { ...originate.from, host: trunk.from_domain ?? trunk.host },
  };
}

/** The union of the trunks' inbound networks, sorted, each once. */
export function inboundCidrs(trunks: Iterable<TrunkRecord>): string[] {
  const all = new Set<string>();
  for (const t of trunks) for (const cidr of t.inbound_cidrs) all.add(cidr);
  return [...all].sort();
}

/**
 * A live copy of `sb_trunks`: a SIP gateway looks trunks up in memory, and hears when the inbound
 * networks change (a trunk added, changed or removed) so its access list follows without a restart.
 */
export class TrunkWatch {
  /** Called after each change with the new union of inbound networks. */
  onChange: ((cidrs: string[]) => void) | undefined;

  private constructor(private readonly watched: WatchedKv<unknown>) {}

  /** Resolves once every trunk stored at start has been read. */
  static async start(kv: KV): Promise<TrunkWatch> {
    const watch = new TrunkWatch(await WatchedKv.start<unknown>(kv));
    watch.watched.onChange = () => watch.onChange?.(watch.inboundCidrs());
    return watch;
  }

  get(name: string): TrunkRecord | undefined {
    return parseTrunkRecord(this.watched.get(name));
  }

  /** Every valid trunk, by name (a value that is not a trunk is left out, as `readTrunk` does). */
  all(): TrunkRecord[] {
    return [...this.watched.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, value]) => parseTrunkRecord(value))
      .filter((t): t is TrunkRecord => t !== undefined);
  }

  inboundCidrs(): string[] {
    return inboundCidrs(this.all());
  }

  stop(): void {
    this.watched.stop();
  }
}
