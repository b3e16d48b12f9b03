// A <Dial> to a number switchboard hosts: the child leg becomes a real inbound call to that number,
// offered through the parent's edge like any other call, and running that number's own app. The
// child leg (DialCallSid, outbound-dial, ParentCallSid = the parent) and the inbound call (its own
// CallSid, Direction inbound, in the number's region) are two Call resources, as on Twilio when one
// Twilio number dials another. The leg mirrors the inbound call: it answers when that call answers
// and ends when that call's `ended` arrives on its `.out`.
import { Kvm } from "@nats-io/kv";
import type { CallFacts } from "../../../machines/call.machine.js";
import type { CallClock } from "../../clock/call-clock.js";
import { sleep } from "../../clock/clock.js";
import type { CallResource } from "../../model/records.js";
import { newSid } from "../../model/sid.js";
import { readChannelOut } from "../../protocol/channel-events.js";
import { decode, encode } from "../../protocol/codec.js";
import type { OfferReply } from "../../protocol/offer.js";
import { readReply } from "../../protocol/service-error.js";
import { buckets } from "../../protocol/subjects.js";
import { isHandOver } from "../../twiml/abort-reasons.js";
import type { LiveCall } from "../host/live-call.js";
import type { HostedCallRef } from "../host/stored-actor.js";
import type { RegionRuntime } from "../runtime.js";
import { type Attempt, type LegEnd, LegHandedOver } from "./child-leg.js";

/**
 * The side that rings the hosted number: a <Dial>'s child leg, or an outbound call itself
 * (outbound-callee.ts). `facts` gives the offer's to, from and edge.
 */
export interface HostedLeg {
  readonly facts: Pick<CallFacts, "to" | "from" | "edge">;
  answeredAt: number | null;
  ringing(): Promise<void>;
  end(status: LegEnd): Promise<void>;
}

/** What ringing a hosted number uses of the region. */
export type HostedRuntime = Pick<RegionRuntime, "region" | "bus" | "stores" | "log">;

export async function ringHosted(
  rt: HostedRuntime,
  call: LiveCall,
  leg: HostedLeg,
  region: string,
  timeoutS: number,
  signal: AbortSignal,
  /** Told where the hosted call runs before its offer goes (which waits for it), again on a new region. */
  onOffer?: (region: string, callSid: string) => Promise<void>,
): Promise<Attempt> {
  signal.throwIfAborted();
  const { nc, subjects } = rt.bus;
  const inboundSid = newSid("CA");
  // Subscribed before the offer, so nothing the call does is missed.
  const events = hostedEvents(rt, inboundSid);
  // The inbound call runs in real time on its own worker: at time-scale 0 the parent's clock must
  // not run ahead meanwhile (its timeout and timeLimit timers wait until the hosted call is done).
  const release = call.clock.hold();
  let hostedRegion = region;
  try {
    await nc.flush();
    await onOffer?.(region, inboundSid);
    hostedRegion = (await offerHosted(rt, call, leg, inboundSid)).region;
    if (hostedRegion !== region) await onOffer?.(hostedRegion, inboundSid);
    await leg.ringing();
  } catch (err) {
    nc.publish(subjects.callIn(hostedRegion, inboundSid), encode({ kind: "hangup" }));
    events.stop();
    release();
    throw err;
  }
  return hostedAnswer(rt, call, leg, { region: hostedRegion, callSid: inboundSid }, events, release, {
    timeoutS,
    signal,
  });
}

/**
 * Offers the hosted number the call `callSid` through the leg's edge, as a carrier would; the same
 * CallSid again is the same call (the edge's claim), so a resumed Dial may offer it again.
 */
export async function offerHosted(
  rt: HostedRuntime,
  call: LiveCall,
  leg: HostedLeg,
  callSid: string,
): Promise<OfferReply> {
  const { nc, subjects } = rt.bus;
  const offer = { to: leg.facts.to, from: leg.facts.from, callSid, caller: { timeScale: call.clock.scale } };
  return readReply(
    await nc.request(subjects.edgeOffer(leg.facts.edge), encode(offer), { timeout: 10_000 }),
  ) as OfferReply;
}

/** What a hosted call did, from its `.out`: its first event (answer, or its end) and its end. */
export interface HostedEvents {
  first: Promise<"answer" | string>;
  ended: Promise<string>;
  /** Settles both from outside: what the call did while nobody listened. */
  saw(first: "answer" | string): void;
  end(status: string): void;
  /** Stops listening, and runs what `also` added. */
  stop(): void;
  also(cleanup: () => void): void;
}

export function hostedEvents(rt: HostedRuntime, callSid: string): HostedEvents {
  let end!: (status: string) => void;
  const ended = new Promise<string>((r) => {
    end = r;
  });
  // What the hosted call did first, in the order its events came: one that answers and ends at once
  // (its app says a line and hangs up) has both read in one turn, and a race of `answer` and `end`
  // would take the end (one microtask nearer) for a call that was never answered.
  let saw!: (first: "answer" | string) => void;
  const first = new Promise<"answer" | string>((r) => {
    saw = r;
  });
  const sub = rt.bus.nc.subscribe(rt.bus.subjects.anyCallOut(callSid), {
    callback: (err, msg) => {
      if (err) return;
      const event = readChannelOut(decode(msg.data));
      if (event?.kind === "answer") saw("answer");
      if (event?.kind === "ended") {
        // Only an answered call completes: one whose answer was not heard (a resumed Dial
        // subscribed after it) answered all the same.
        if (event.status === "completed") saw("answer");
        end(event.status);
        saw(event.status);
      }
    },
  });
  const cleanups: (() => void)[] = [() => sub.unsubscribe()];
  return {
    first,
    ended,
    saw,
    end,
    stop: () => {
      for (const c of cleanups.splice(0)) c();
    },
    also: (cleanup) => {
      cleanups.push(cleanup);
    },
  };
}

/**
 * Waits for the ringing hosted call to answer, end, or outlast the Dial's timeout (it is hung up).
 * A hand-over leaves it ringing: the worker the call moves to takes it back (hosted-take-back.ts).
 */
export async function hostedAnswer(
  rt: HostedRuntime,
  call: LiveCall,
  leg: HostedLeg,
  hosted: HostedCallRef,
  events: HostedEvents,
  release: () => void,
  { timeoutS, signal }: { timeoutS: number; signal: AbortSignal },
): Promise<Attempt> {
  const { nc, subjects } = rt.bus;
  const hangUpInbound = () =>
    nc.publish(subjects.callIn(hosted.region, hosted.callSid), encode({ kind: "hangup" }));
  try {
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    const ringing = new AbortController();
    const stopRinging = () => ringing.abort(signal.reason);
    signal.addEventListener("abort", stopRinging, { once: true });
    const ringTimeout = sleep(call.clock, timeoutS * 1000, ringing.signal).then(() => "timeout" as const);
    // At time-scale 0 the held clock cannot time the ringing out: a hosted call that never answers
    // (its region has no worker) is given up after the timeout in real time instead.
    let guard: NodeJS.Timeout | undefined;
    const realTimeout =
      call.clock.scale === 0
        ? new Promise<"timeout">((resolve) => {
            guard = setTimeout(() => resolve("timeout"), timeoutS * 1000);
          })
        : new Promise<never>(() => {});
    const first = await Promise.race([events.first, ringTimeout, realTimeout, aborted]).finally(() => {
      clearTimeout(guard);
      signal.removeEventListener("abort", stopRinging);
      ringing.abort(new Error("ringing over"));
    });
    if (first !== "answer") {
      if (first === "timeout") hangUpInbound();
      events.stop();
      release();
      const status = first === "busy" || first === "failed" ? first : "no-answer";
      return { answered: false, status };
    }
  } catch (err) {
    events.stop();
    release();
    if (isHandOver(signal.reason)) throw new LegHandedOver(`${hosted.callSid} rings on for the next worker`);
    hangUpInbound();
    throw err;
  }
  return bridgedHosted(rt, call, leg, hosted, events.ended, () => events.stop(), release);
}

/**
 * A hosted number's call a resumed call's <Dial> was bridged to, still up (stale-legs.ts found no
 * record of its end): the Dial takes it back instead of offering the number a new call. It listens
 * for that call's end again, then reads its record, in case it ended while no worker listened.
 */
export async function rejoinHosted(
  rt: HostedRuntime,
  call: LiveCall,
  leg: HostedLeg,
  hosted: HostedCallRef,
): Promise<Extract<Attempt, { answered: true }>> {
  // As when it was offered: at time-scale 0 the parent's clock waits for the hosted call.
  const release = call.clock.hold();
  const { ended, stop } = await followHostedCall(rt, hosted, call.clock).catch((err: unknown) => {
    release();
    throw err;
  });
  return bridgedHosted(rt, call, leg, hosted, ended, stop, release);
}

/**
 * Waits for a hosted call's end that may have come while no worker listened: `ended` resolves on
 * its `ended` event, or at once when its record says it is over (read after subscribing, so an end
 * is either heard or read). `stop` stops listening.
 */
export async function followHostedCall(
  rt: HostedRuntime,
  hosted: HostedCallRef,
  clock: Pick<CallClock, "holding">,
): Promise<{ ended: Promise<void>; stop: () => void }> {
  const watch = watchEnd(rt, hosted.callSid);
  await rt.bus.nc.flush();
  const record = await clock
    .holding(() => hostedRecord(rt, hosted.region, hosted.callSid))
    .catch(() => undefined);
  if (record) watch.end();
  return { ended: watch.ended, stop: watch.stop };
}

/** A call's `ended` on its `.out`, in whichever region it runs (`end` settles it from outside). */
function watchEnd(
  rt: HostedRuntime,
  callSid: string,
): { ended: Promise<void>; end: () => void; stop: () => void } {
  let end!: () => void;
  const ended = new Promise<void>((resolve) => {
    end = resolve;
  });
  const sub = rt.bus.nc.subscribe(rt.bus.subjects.anyCallOut(callSid), {
    callback: (err, msg) => {
      if (!err && readChannelOut(decode(msg.data))?.kind === "ended") end();
    },
  });
  return { ended, end, stop: () => sub.unsubscribe() };
}

/** The answered hosted call as the Dial holds it: it ends with that call, or hangs that call up. */
function bridgedHosted(
  rt: HostedRuntime,
  call: LiveCall,
  leg: HostedLeg,
  hosted: HostedCallRef,
  end: Promise<unknown>,
  stopWatching: () => void,
  release: () => void,
): Extract<Attempt, { answered: true }> {
  const { nc, subjects } = rt.bus;
  const hangUpInbound = () =>
    nc.publish(subjects.callIn(hosted.region, hosted.callSid), encode({ kind: "hangup" }));
  return {
    answered: true,
    cancel: () => {
      hangUpInbound();
      stopWatching();
      release();
    },
    connect: () => ({
      ended: end.then(async () => {
        stopWatching();
        // Simulated time: the parent's clock moves on by as long as the hosted call talked.
        const talked = await connectedMs(rt, hosted.region, hosted.callSid).finally(release);
        const answeredAt = leg.answeredAt ?? call.clock.now();
        await sleep(call.clock, Math.max(0, answeredAt + talked - call.clock.now()));
        await leg.end("completed");
      }),
      hangup: async () => {
        hangUpInbound();
        stopWatching();
        release();
        await leg.end("completed");
      },
      release: () => {
        stopWatching();
        release();
      },
    }),
  };
}

/** How long the hosted call lasted (its stored duration), in ms. */
async function connectedMs(rt: HostedRuntime, region: string, callSid: string): Promise<number> {
  const record = await hostedRecord(rt, region, callSid).catch(() => undefined);
  return Number(record?.duration ?? 0) * 1000;
}

/** The hosted call's record once it has ended (undefined while it lives). */
export async function hostedRecord(
  rt: HostedRuntime,
  region: string,
  callSid: string,
): Promise<CallResource | undefined> {
  // This region's bucket is open already; another region's is opened for the one read.
  if (region === rt.region) return rt.stores.calls.get(callSid);
  const kv = await new Kvm(rt.bus.nc).open(buckets.calls(region));
  const e = await kv.get(callSid);
  return e?.operation === "PUT" ? e.json<CallResource>() : undefined;
}

/** How many times a hosted call is told its caller left (a second apart) before giving up. */
const HANGUPS = 5;

/**
 * Tells a hosted number's call that its caller left; it then ends itself (its own record and
 * callbacks). After a worker died that call may have been on it too, and be resuming somewhere while
 * no worker listens on its `.in`: told again each second until its `ended` shows, a few times.
 */
export async function hangUpHostedCall(rt: HostedRuntime, hosted: HostedCallRef): Promise<void> {
  const { nc, subjects } = rt.bus;
  const watch = watchEnd(rt, hosted.callSid);
  const over = watch.ended.then(() => true as const);
  try {
    for (let i = 0; i < HANGUPS && !nc.isClosed(); i++) {
      nc.publish(subjects.callIn(hosted.region, hosted.callSid), encode({ kind: "hangup" }));
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), 1_000);
        timer.unref(); // a stopping worker does not wait for it
      });
      const done = await Promise.race([over, waited]);
      clearTimeout(timer);
      if (done) return;
    }
  } catch {
    // The worker is stopping (its connection closed): that call is left to end by itself.
  } finally {
    watch.stop();
  }
}
