// Places a simulated inbound call through an edge and follows it to its end: what `switchboard
// call` (and `load`) do. It listens before it offers (it picks the CallSid itself), so it misses
// nothing the call does, and reads the stored Call resource once the region says the call ended.
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { CallResource } from "../model/records.js";
import { newSid } from "../model/sid.js";
import { type ChannelOut, readChannelOut } from "../protocol/channel-events.js";
import { decode } from "../protocol/codec.js";
import { type InspectEvent, inspectEnvelopes } from "../protocol/inspect.js";
import type { CallerScript } from "../protocol/offer.js";
import { offerCall } from "../protocol/offer.js";
import { buckets, subjects } from "../protocol/subjects.js";

export type CallProgress =
  /** The edge stored the call in its region's stream. */
  | { source: "offered"; region: string; callSid: string }
  | { source: "channel"; region: string; event: ChannelOut }
  | { source: "inspect"; region: string; event: InspectEvent & { at: number } };

export interface PlaceCallOptions {
  to: string;
  from: string;
  edge: string;
  caller?: CallerScript;
  /** Twilio's geographic parameters for the webhook (FromCity, ToCountry, …). */
  geo?: Record<string, string>;
  /** Real milliseconds to wait for the call to end. */
  timeoutMs?: number;
  prefix?: string;
  onProgress?: (p: CallProgress) => void;
}

export interface PlacedCall {
  callSid: string;
  region: string;
  call: CallResource;
}

export async function placeCall(nc: NatsConnection, opts: PlaceCallOptions): Promise<PlacedCall> {
  const s = subjects(opts.prefix);
  const callSid = newSid("CA");
  let ended!: (region: string) => void;
  const end = new Promise<string>((resolve) => {
    ended = resolve;
  });
  const regionOf = (subject: string) => subject.split(".")[2] ?? "";
  const out = nc.subscribe(s.anyCallOut(callSid), {
    callback: (err, msg) => {
      if (err) return;
      let event: ChannelOut | undefined;
      try {
        event = readChannelOut(decode(msg.data));
      } catch {
        return; // not a message of the protocol: ignored, as one that fails the schema is
      }
      if (!event) return;
      opts.onProgress?.({ source: "channel", region: regionOf(msg.subject), event });
      if (event.kind === "ended") ended(event.region);
    },
  });
  const inspect = nc.subscribe(s.anyInspect(callSid), {
    callback: (err, msg) => {
      if (err) return;
      // Channel commands come from `.out` above, as they happen.
      for (const event of inspectEnvelopes(msg.data))
        if (event.type !== "channel")
          opts.onProgress?.({ source: "inspect", region: regionOf(msg.subject), event });
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await nc.flush();
    const offer = {
      to: opts.to,
      from: opts.from,
      callSid,
      ...(opts.caller && { caller: opts.caller }),
      ...(opts.geo && { geo: opts.geo }),
    };
    const reply = await offerCall(nc, opts.edge, offer, opts);
    opts.onProgress?.({ source: "offered", region: reply.region, callSid });
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`call ${callSid} did not end within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
    });
    const region = await Promise.race([end, timedOut]);
    return { callSid, region, call: await readCall(nc, region, callSid) };
  } finally {
    clearTimeout(timer);
    out.unsubscribe();
    inspect.unsubscribe();
  }
}

/** The stored Call resource (the region writes it before it announces the end). */
export async function readCall(nc: NatsConnection, region: string, callSid: string): Promise<CallResource> {
  const kv = await new Kvm(nc).open(buckets.calls(region));
  const e = await kv.get(callSid);
  if (e?.operation !== "PUT") throw new Error(`call ${callSid} has no stored record in ${region}`);
  return e.json<CallResource>();
}
