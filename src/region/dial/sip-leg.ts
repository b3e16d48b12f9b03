// A <Dial> target placed as a real SIP leg through the parent call's own gateway, so both legs' RTP
// meet in one process (docs/sip.md, "Dial"): the region asks the gateway to originate, hears the
// INVITE's progress on the leg's `.leg` subject, and once it answers the leg is a call on the gateway
// like any other: commands go to its `.cmd` (a RemoteChannel), its hang-up arrives on its `.in`.
import type { NatsConnection } from "@nats-io/transport-node";
import { ChannelInSchema } from "../../protocol/channel-events.js";
import { decode, encode } from "../../protocol/codec.js";
import { readReply } from "../../protocol/service-error.js";
import { dialStatusOf, type LegEvent, type Originate, readLegEvent } from "../../protocol/sip-legs.js";
import { isHandOver } from "../../twiml/abort-reasons.js";
import type { SipOutcome } from "../../twiml/ports/dial-network.js";
import { RemoteChannel } from "../channel/remote-channel.js";
import type { LiveCall } from "../host/live-call.js";
import type { RegionRuntime } from "../runtime.js";
import { type Attempt, type ChildLeg, LegHandedOver } from "./child-leg.js";
import { legState } from "./outbound-leg.js";

/** What the target makes of the INVITE (sip-target.ts); the leg's ids and timing are added here. */
export type SipLegRequest = Omit<Originate, "legSid" | "region" | "timeoutMs" | "ringingTo">;

/** The gateway answers `originate` at once; a gateway that does not has lost the call. */
const ORIGINATE_TIMEOUT_MS = 10_000;
/**
 * The gateway cancels an unanswered INVITE itself at `timeoutMs` and reports 487; should that report
 * never come (the gateway died), the region gives up this much later.
 */
const GUARD_MS = 5_000;

type Final = Extract<LegEvent, { kind: "answered" | "failed" }>;

export async function ringSip(
  rt: Pick<RegionRuntime, "region" | "bus" | "inspector">,
  call: LiveCall,
  leg: ChildLeg,
  gateway: string,
  request: SipLegRequest,
  options: { timeoutS: number; ringTone?: string },
  signal: AbortSignal,
): Promise<Attempt> {
  signal.throwIfAborted();
  const { nc, subjects } = rt.bus;
  const legSid = leg.callSid;
  // Subscribed before the originate, so no event of the leg is missed.
  const ringing = watchRinging(rt, call, leg, gateway);
  try {
    await nc.flush();
    const originate: Originate = {
      ...request,
      legSid,
      region: rt.region,
      timeoutMs: options.timeoutS * 1000,
      ringingTo: { callSid: call.callSid, ...(options.ringTone && { ringTone: options.ringTone }) },
    };
    // Stored with the call before the INVITE can go: a worker that resumes the call finds the leg.
    await call.clock.holding(() => call.dialLegs.placedOn(legSid, gateway));
    await originateOn(nc, subjects.sipOriginate(gateway), originate);
  } catch (err) {
    ringing.close();
    throw err;
  }
  return ringing.outcome(options.timeoutS, signal);
}

/**
 * A SIP leg a resumed call's <Dial> was ringing when its worker died, still ringing on `gateway` (or
 * answered since, with no worker to hear it: stale-legs.ts found it so). The Dial takes it back: no
 * CANCEL, no new INVITE, the callee's phone rings on and the caller keeps hearing its ringback (the
 * gateway relays it as the originate asked). The leg's events are heard again, then the gateway is
 * asked what the leg did while no worker listened.
 */
export async function resumeRinging(
  rt: Pick<RegionRuntime, "region" | "bus" | "inspector" | "log">,
  call: LiveCall,
  leg: ChildLeg,
  gateway: string,
  options: { timeoutS: number },
  signal: AbortSignal,
): Promise<Attempt> {
  signal.throwIfAborted();
  const ringing = watchRinging(rt, call, leg, gateway);
  const state = await call.clock.holding(() => legState(rt, gateway, leg.callSid));
  if (state === "gone") {
    // Its gateway no longer knows it (it restarted): the leg died with it.
    ringing.close();
    return { answered: false, status: "failed" };
  }
  if (state?.rang) ringing.rang();
  if (state?.final) ringing.final(state.final, state.answeredMsAgo);
  // Answered, then hung up while no worker listened: it ends as soon as it is bridged.
  if (state?.endedMsAgo !== undefined) ringing.channel.callerHungUp();
  return ringing.outcome(options.timeoutS, signal);
}

/**
 * Hears a ringing leg: its `.leg` events (ringing, then answered or failed) and, as a channel of its
 * own, its `.in`. `outcome` waits for the final event, the Dial's abort (the leg is cancelled) or the
 * gateway's silence past the ring timeout.
 */
function watchRinging(
  rt: Pick<RegionRuntime, "region" | "bus" | "inspector">,
  call: LiveCall,
  leg: ChildLeg,
  gateway: string,
) {
  const { nc, subjects } = rt.bus;
  let onFinal!: (e: Final) => void;
  const final = new Promise<Final>((resolve) => {
    onFinal = resolve;
  });
  let ringing: Promise<void> | undefined;
  const rang = () => {
    ringing ??= leg.ringing().catch(() => {});
  };
  /** The parent's clock when the leg answered, when it answered while no worker listened. */
  let answeredAt: number | undefined;
  const legSub = nc.subscribe(subjects.callLeg(rt.region, leg.callSid), {
    callback: (err, msg) => {
      const event = err ? undefined : readLegEvent(decode(msg.data));
      if (event?.kind === "ringing") rang();
      else if (event) onFinal(event);
    },
  });
  const { channel, ended, stop } = listenToLeg(rt, call, leg.callSid, gateway);
  const close = () => {
    legSub.unsubscribe();
    stop();
  };
  // Before the answer a hang-up is a CANCEL; after it, a BYE. Best effort: a lost leg is over anyway.
  const hangUpLeg = () => channel.hangup().catch(() => {});
  const outcome = async (timeoutS: number, signal: AbortSignal): Promise<Attempt> => {
    let guard: NodeJS.Timeout | undefined;
    // Handed over, the leg is not cancelled: the worker the call moves to takes it back ringing.
    const handedOver = () => isHandOver(signal.reason);
    const onAbort = () => {
      if (handedOver()) close();
      else void hangUpLeg();
    };
    let sip: SipOutcome;
    try {
      // Stopped while the INVITE was being sent (the caller hung up, another leg won): cancelled at once.
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
      const aborted = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
      const timedOut = new Promise<Final>((resolve) => {
        guard = setTimeout(
          () => resolve({ kind: "failed", sipCode: 408, reason: "no final response from the gateway" }),
          timeoutS * 1000 + GUARD_MS,
        );
      });
      const result = await Promise.race([final, timedOut, aborted]);
      await ringing;
      if (result.kind === "failed") {
        if (result.reason === "no final response from the gateway") await hangUpLeg();
        close();
        return { answered: false, status: dialStatusOf(result.sipCode), sip: sipOutcome(result) };
      }
      sip = sipOutcome(result);
    } catch (err) {
      close();
      throw signal.aborted && handedOver() ? new LegHandedOver("the call moved to another worker") : err;
    } finally {
      clearTimeout(guard);
      signal.removeEventListener("abort", onAbort);
    }
    return {
      ...answeredLeg(leg, channel, ended, close, sip),
      ...(answeredAt !== undefined && { answeredAt }),
    };
  };
  return {
    channel,
    close,
    rang,
    /** What the gateway says came while no worker listened (`answeredMsAgo`: when it answered). */
    final(event: Final, answeredMsAgo?: number) {
      if (event.kind === "answered" && answeredMsAgo !== undefined)
        answeredAt = call.clock.now() - answeredMsAgo;
      onFinal(event);
    },
    outcome,
  };
}

/**
 * A leg a resumed call's <Dial> was bridged to when its worker died, still up on `gateway`
 * (stale-legs.ts found it so): the Dial takes it back instead of ringing anew. It listens on the
 * leg's `.in` again, then asks the gateway once more whether the callee hung up meanwhile.
 */
export async function rejoinSip(
  rt: Pick<RegionRuntime, "region" | "bus" | "inspector" | "log">,
  call: LiveCall,
  leg: ChildLeg,
  gateway: string,
): Promise<Extract<Attempt, { answered: true }>> {
  const { channel, ended, stop } = listenToLeg(rt, call, leg.callSid, gateway);
  const state = await call.clock.holding(() => legState(rt, gateway, leg.callSid));
  if (state === "gone" || state?.endedMsAgo !== undefined) channel.callerHungUp();
  // Its final response (DialSip*) is the Dial's to give, from the snapshot (take-back.ts).
  return answeredLeg(leg, channel, ended, stop);
}

/**
 * The leg as a channel of its own on `gateway`, hearing its `.in` (the callee's keys, speech and
 * hang-up); `ended` resolves when the callee hangs up, `stop` stops listening.
 */
function listenToLeg(
  rt: Pick<RegionRuntime, "region" | "bus" | "inspector">,
  call: LiveCall,
  legSid: string,
  gateway: string,
): { channel: RemoteChannel; ended: Promise<void>; stop: () => void } {
  const { nc, subjects } = rt.bus;
  let hungUp!: () => void;
  const ended = new Promise<void>((resolve) => {
    hungUp = resolve;
  });
  const channel = new RemoteChannel(
    nc,
    subjects.sipCallCommand(gateway, legSid),
    call.clock,
    (event) => rt.inspector.command(legSid, event, call.clock.now()),
    () => hungUp(),
  );
  const inSub = nc.subscribe(subjects.callIn(rt.region, legSid), {
    callback: (err, msg) => {
      const input = err ? undefined : ChannelInSchema.safeParse(decode(msg.data)).data;
      if (input?.kind === "hangup") channel.callerHungUp();
      else if (input) channel.input(input);
    },
  });
  return { channel, ended, stop: () => inSub.unsubscribe() };
}

/** An answered leg as the Dial holds it: bridged, it ends when the callee hangs up or the Dial ends it. */
function answeredLeg(
  leg: ChildLeg,
  channel: RemoteChannel,
  ended: Promise<void>,
  close: () => void,
  sip?: SipOutcome,
): Extract<Attempt, { answered: true }> {
  // Before the answer a hang-up is a CANCEL; after it, a BYE. Best effort: a lost leg is over anyway.
  const hangUpLeg = () => channel.hangup().catch(() => {});
  return {
    answered: true,
    channel,
    ...(sip && { sip }),
    cancel: () => {
      void hangUpLeg().finally(close);
    },
    connect: () => ({
      ended: ended.then(async () => {
        close();
        await leg.end("completed");
      }),
      hangup: async () => {
        await hangUpLeg();
        close();
        await leg.end("completed");
      },
      release: close,
    }),
  };
}

/** The final response as the Dial's action reports it (DialSip*): a 2xx is 200, as Twilio says. */
function sipOutcome(final: Final): SipOutcome {
  return {
    code: final.kind === "failed" ? final.sipCode : 200,
    ...(final.callId !== undefined && { callId: final.callId }),
    ...(final.headers && { headers: final.headers }),
  };
}

/** Sends the originate; the gateway's reply (or its error reply) comes at once. */
async function originateOn(nc: NatsConnection, subject: string, originate: Originate): Promise<void> {
  readReply(await nc.request(subject, encode(originate), { timeout: ORIGINATE_TIMEOUT_MS }));
}
