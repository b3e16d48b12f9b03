// Places a simulated inbound call through an edge and follows it to its end: what `switchboard
// call` (and `load`) do. It listens before it offers (it picks the CallSid itself), so it misses
// nothing the call does, and reads the stored Call resource once the region says the call ended.
// Progress is reported in the call's own order: `offered` first, then the call's inspection batches
// (state changes, requests, responses and channel commands in the order the worker saw them), not
// the channel's `.out` (sent at once, ahead of the batch holding the response that caused it).
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

/** How long an `ended` on `.out` waits for the inspection batch that carries the call's last events. */
const LAST_BATCH_MS = 1_000;

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
  // Until the edge has said where it stored the call, what the call does waits: `offered` comes first.
  let offered = false;
  const early: CallProgress[] = [];
  const report = (p: CallProgress) => {
    if (offered) opts.onProgress?.(p);
    else early.push(p);
  };
  // `.out` only tells the end (a call ended without an actor has no inspection events); its `ended`
  // waits a moment for the inspection batch that holds the call's last events.
  let outEnded: NodeJS.Timeout | undefined;
  let endKnown = false;
  const finish = (region: string) => {
    if (endKnown) return;
    endKnown = true;
    clearTimeout(outEnded);
    ended(region);
  };
  const out = nc.subscribe(s.anyCallOut(callSid), {
    callback: (err, msg) => {
      if (err) return;
      let event: ChannelOut | undefined;
      try {
        event = readChannelOut(decode(msg.data));
      } catch {
        return; // not a message of the protocol: ignored, as one that fails the schema is
      }
      if (event?.kind === "ended" && !endKnown) {
        const region = regionOf(msg.subject);
        const last = event;
        outEnded ??= setTimeout(() => {
          report({ source: "channel", region, event: last });
          finish(region);
        }, LAST_BATCH_MS);
      }
    },
  });
  const inspect = nc.subscribe(s.anyInspect(callSid), {
    callback: (err, msg) => {
      if (err) return;
      const region = regionOf(msg.subject);
      let events: ReturnType<typeof inspectEnvelopes>;
      try {
        events = inspectEnvelopes(msg.data);
      } catch {
        return;
      }
      for (const event of events) {
        if (event.type !== "channel") {
          report({ source: "inspect", region, event });
          continue;
        }
        report({ source: "channel", region, event: event.command });
        if (event.command.kind === "ended") finish(region);
      }
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
    offered = true;
    for (const p of early.splice(0)) opts.onProgress?.(p);
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
    clearTimeout(outEnded);
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
