// The records that end calls: every write to a region's calls bucket, seen on the bucket's own
// subjects (`$KV.sb_calls_<region>.>`) by one core subscription per region, so `load` learns each
// call's end and status from one message that carries the record itself.
import { Kvm } from "@nats-io/kv";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { numberKey } from "../model/phone.js";
import { type CallStatus, type RoutingEntry, TERMINAL_STATUSES } from "../model/records.js";
import { DEFAULT_REGION } from "../protocol/offer.js";
import { buckets } from "../protocol/subjects.js";

/** A call whose record is awaited; its region is known once the edge has replied. */
export interface AwaitedCall {
  region: string | undefined;
}

/** The region the routing table sends `to`'s calls to (as the edge decides), to watch before offering. */
export async function routedRegion(nc: NatsConnection, to: string): Promise<string> {
  try {
    const kv = await new Kvm(nc).open(buckets.routing);
    const e = await kv.get(numberKey(to));
    return e?.operation === "PUT" ? (e.json<RoutingEntry>().region ?? DEFAULT_REGION) : DEFAULT_REGION;
  } catch {
    return DEFAULT_REGION; // no routing table yet: every number goes to the default region
  }
}

/** Every record written to the watched regions' calls buckets, reported once it is terminal. */
export class RecordWatch {
  readonly #subs = new Map<string, Subscription>();
  #closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly onRecord: (callSid: string, status: CallStatus, at: number) => void,
  ) {}

  has(region: string): boolean {
    return this.#subs.has(region);
  }

  /** Starts watching a region; after `close()` (an offer's reply came late) it does nothing. */
  async watch(region: string): Promise<void> {
    if (this.#closed || this.#subs.has(region)) return;
    const prefix = `$KV.${buckets.calls(region)}.`;
    const decoder = new TextDecoder();
    this.#subs.set(
      region,
      this.nc.subscribe(`${prefix}>`, {
        callback: (err, msg) => {
          // A delete or purge carries no value; a record that is not JSON is not one of ours.
          if (err || msg.data.length === 0) return;
          const at = performance.now();
          const status = statusOf(decoder.decode(msg.data));
          if (status) this.onRecord(msg.subject.slice(prefix.length), status, at);
        },
      }),
    );
    await this.nc.flush();
  }

  /** Reads the stored record of each call, for calls whose record message may have been missed. */
  async recheck(calls: Map<string, AwaitedCall>): Promise<void> {
    const kvm = new Kvm(this.nc);
    const entries = [...calls.entries()];
    for (let i = 0; i < entries.length; i += 64) {
      await Promise.all(
        entries.slice(i, i + 64).map(async ([sid, call]) => {
          try {
            const kv = await kvm.open(buckets.calls(call.region ?? DEFAULT_REGION));
            const e = await kv.get(sid);
            const status = e?.operation === "PUT" ? statusOf(e.string()) : undefined;
            if (status) this.onRecord(sid, status, performance.now());
          } catch {
            // Unreadable now: the call stays where it is (pending or lost).
          }
        }),
      );
    }
  }

  close(): void {
    this.#closed = true;
    for (const sub of this.#subs.values()) sub.unsubscribe();
    this.#subs.clear();
  }
}

export function inRegion(calls: Map<string, AwaitedCall>, region: string): Map<string, AwaitedCall> {
  return new Map([...calls].filter(([, c]) => c.region === region));
}

function statusOf(json: string): CallStatus | undefined {
  try {
    const status = (JSON.parse(json) as { status?: CallStatus }).status;
    return status !== undefined && TERMINAL_STATUSES.has(status) ? status : undefined;
  } catch {
    return undefined;
  }
}
