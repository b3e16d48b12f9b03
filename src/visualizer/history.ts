// Reads one call's history from JetStream: its inspection events (SB_INSPECT_<R>), among them its
// channel commands, and its stored Call resource. With `follow`, it keeps delivering new records
// until the signal aborts.
import { DeliverPolicy, type JsMsg, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { CallResource } from "../model/records.js";
import type { ChannelOut } from "../protocol/channel-events.js";
import { type InspectEvent, inspectEnvelopes } from "../protocol/inspect.js";
import { buckets, streams, subjects } from "../protocol/subjects.js";
import { liveCallEdge, liveCallOrigin } from "../store/actor-snapshots.js";
import { sanitize } from "./sanitize.js";

/**
 * `seq` is the stream sequence of the message (a batch) the record came in and `i` its place in it:
 * together, the order the worker saw them in. `ts` is when the server stored the message; `at` is
 * when the record happened, on the worker's clock.
 */
export type HistoryRecord =
  | { source: "inspect"; seq: number; i: number; ts: number; at: number; event: InspectEvent }
  | { source: "channel"; seq: number; i: number; ts: number; at: number; event: ChannelOut };

export interface CallHistory {
  callSid: string;
  region: string;
  /** Inspection events and channel commands, in the order the worker saw them. */
  records: HistoryRecord[];
  /** The stored Call resource, once the call has ended. */
  call: CallResource | null;
  /** Whether this region's channel commands are captured (else verbs come from the TwiML only). */
  channelCaptured: boolean;
}

/** The region whose inspection stream holds events of this call, or null. */
export async function findCallRegion(
  nc: NatsConnection,
  callSid: string,
  regions: string[],
): Promise<string | null> {
  const jsm = await jetstreamManager(nc);
  const s = subjects();
  for (const region of regions) {
    const last = await jsm.streams
      .getMessage(streams.inspect(region), { last_by_subj: s.inspect(region, callSid) })
      .catch(() => null);
    if (last) return region;
  }
  return null;
}

export async function readStoredCall(
  nc: NatsConnection,
  region: string,
  callSid: string,
): Promise<CallResource | null> {
  try {
    const kv = await new Kvm(nc).open(buckets.calls(region));
    const e = await kv.get(callSid);
    return e?.operation === "PUT" ? sanitize(e.json<CallResource>()) : null;
  } catch {
    return null;
  }
}

/**
 * The edge a live call came in at: only its persisted snapshot keeps it (the record does not), or,
 * in the call's first second, the job in its owner's lease.
 */
export async function readLiveEdge(
  nc: NatsConnection,
  region: string,
  callSid: string,
): Promise<string | null> {
  try {
    return await liveCallEdge(await new Kvm(nc).open(buckets.actors(region)), callSid);
  } catch {
    return null;
  }
}

/** A live call's edge and account (see `liveCallOrigin`); nulls when the region's buckets cannot be read. */
export async function readLiveOrigin(
  nc: NatsConnection,
  region: string,
  callSid: string,
): Promise<{ edge: string | null; accountSid: string | null }> {
  try {
    return await liveCallOrigin(await new Kvm(nc).open(buckets.actors(region)), callSid);
  } catch {
    return { edge: null, accountSid: null };
  }
}

/** Reads the call's history up to now; with `follow`, `onRecord` then gets every later record until `signal` aborts. */
export async function readCallHistory(
  nc: NatsConnection,
  region: string,
  callSid: string,
  opts: { follow?: (r: HistoryRecord) => void; signal?: AbortSignal } = {},
): Promise<CallHistory> {
  const records: HistoryRecord[] = [];
  let caughtUp = false;
  const deliver = (r: HistoryRecord) => (caughtUp ? opts.follow?.(r) : records.push(r));
  const reader = readSubject(nc, streams.inspect(region), subjects().inspect(region, callSid), opts, (m) => {
    for (const r of historyRecords(m)) deliver(r);
  });
  await reader.caughtUp;
  const call = await readStoredCall(nc, region, callSid);
  // Records that arrived meanwhile are still in `records`; from here on they go to `follow`.
  caughtUp = true;
  // A call recorded before commands were inspection events (or one with none yet) shows none.
  const channelCaptured = records.length === 0 || records.some((r) => r.source === "channel");
  return { callSid, region, records: sortRecords(records), call, channelCaptured };
}

/** The order the worker saw them in: by message, then by place in the message. */
export function sortRecords(records: HistoryRecord[]): HistoryRecord[] {
  return records.sort((a, b) => a.seq - b.seq || a.i - b.i);
}

function millis(m: JsMsg): number {
  return Number(m.info.timestampNanos) / 1e6;
}

/** The records of one inspection message (a batch), each with its worker time. */
function historyRecords(m: JsMsg): HistoryRecord[] {
  const ts = millis(m);
  return inspectEnvelopes(m.data).map(({ callSid: _sid, at: t, ...event }, i) => {
    const at = typeof t === "number" ? t : ts;
    return event.type === "channel"
      ? { source: "channel", seq: m.seq, i, ts, at, event: sanitize(event.command) }
      : { source: "inspect", seq: m.seq, i, ts, at, event: sanitize(event as InspectEvent) };
  });
}

/**
 * Delivers a subject's stored messages in order; `caughtUp` resolves after the last one stored
 * when reading began. Without `follow` the consumer is closed then; with it, it runs on.
 */
function readSubject(
  nc: NatsConnection,
  stream: string,
  subject: string,
  opts: { follow?: unknown; signal?: AbortSignal },
  onMsg: (m: JsMsg) => void,
): { caughtUp: Promise<void> } {
  const caughtUp = (async () => {
    const jsm = await jetstreamManager(nc);
    const last = await jsm.streams.getMessage(stream, { last_by_subj: subject }).catch(() => null);
    if (!last && !opts.follow) return;
    const consumer = await jetstream(nc).consumers.get(stream, {
      filter_subjects: subject,
      deliver_policy: DeliverPolicy.All,
    });
    const messages = await consumer.consume();
    const close = () => void messages.close().catch(() => {});
    opts.signal?.addEventListener("abort", close, { once: true });
    let done!: () => void;
    const reached = new Promise<void>((resolve) => {
      done = resolve;
    });
    if (!last) done();
    void (async () => {
      try {
        for await (const m of messages) {
          onMsg(m);
          if (last && m.seq >= last.seq) {
            done();
            if (!opts.follow) break;
          }
        }
      } finally {
        done();
        opts.signal?.removeEventListener("abort", close);
        close();
      }
    })();
    await reached;
  })();
  return { caughtUp };
}
