// An outbound call's first step (REST `POST Calls.json`): ring its `to` as a <Dial> rings a target —
// a number switchboard hosts is offered through the call's edge and runs its own app
// (hosted-callee.ts); a number with a trunk, or a `sip:` URI, is a real SIP leg (outbound-leg.ts);
// anything else is the simulated network, answering as the call's script says —
// and send the progress callbacks it asked for (initiated, ringing, answered).
import type { AnnounceOutcome, CallFacts } from "../../../machines/call.machine.js";
import { sleep } from "../../clock/clock.js";
import type { CallStatus } from "../../model/records.js";
import { encode } from "../../protocol/codec.js";
import type { Outbound, OutboundEvent } from "../../protocol/outbound.js";
import { statusCallbackParams } from "../../webhook/params.js";
import { HostedCallRefSchema } from "../host/dial-legs.js";
import type { LiveCall } from "../host/live-call.js";
import type { HostedCallRef } from "../host/stored-actor.js";
import type { RegionRuntime } from "../runtime.js";
import { DEFAULT_ANSWER_AFTER_S, DEFAULT_BUSY_AFTER_S, dtmfMs, hostedRegion } from "./dial-network.js";
import { followHostedCall, type HostedLeg, hangUpHostedCall, ringHosted } from "./hosted-callee.js";
import { resumeHostedRinging } from "./hosted-take-back.js";
import { goesOutOverSip, ringSipLeg } from "./outbound-leg.js";

export async function ringCallee(
  rt: RegionRuntime,
  call: LiveCall,
  facts: CallFacts,
  outbound: Outbound,
  signal: AbortSignal,
): Promise<AnnounceOutcome> {
  const progress = progressReporter(rt, call, facts, outbound);
  await progress("initiated", "initiated");
  const region = await call.clock.holding(() => hostedRegion(rt, facts.to));
  const ringing = () => progress("ringing", "ringing");
  const outcome =
    region !== undefined
      ? await hosted(rt, call, facts, region, outbound, ringing, signal)
      : call.leg || goesOutOverSip(facts.to, outbound)
        ? await ringSipLeg(rt, call, facts, outbound, ringing, signal)
        : await simulated(call, facts.to, outbound, ringing, signal);
  if (outcome.kind !== "answered") return outcome;
  // Answered and hung up already (a resumed call's leg): Twilio sent `answered` then; nothing plays now.
  if (outcome.endedAt !== undefined) {
    await progress("answered", "in-progress");
    return outcome;
  }
  await call.channel.answer();
  await progress("answered", "in-progress");
  // The callee hears the digits first (an extension), before the call's TwiML runs: a real leg as
  // RFC 4733 keys (a digits-only Play), the simulated network as the time they take.
  if (outbound.sendDigits) {
    if (call.leg) await call.channel.play("", { digits: outbound.sendDigits }, signal);
    else await sleep(call.clock, dtmfMs(outbound.sendDigits), signal);
  }
  return outcome;
}

/**
 * The SequenceNumber of an outbound call's `completed` callback: one more than the progress
 * callbacks it was sent, which follow from how the call went. A call placed on a SIP leg rang only
 * if the leg said so (`legRang`, stored with the call: a callee may answer, or answer 486, with no
 * 180 first); any other callee (`legRang` undefined) rang unless the call failed. Worked out rather
 * than counted, so a call resumed on another worker numbers it the same. (The outbox keys the final
 * callback `completed`, so a `rang` lost in a crash can misnumber it but never drop it.)
 */
export function completedSequence(
  events: readonly string[] | undefined,
  status: CallStatus,
  answered: boolean,
  legRang?: boolean,
): number {
  if (!events) return 0;
  const rang = legRang ?? (answered || status !== "failed");
  return (
    Number(events.includes("initiated")) +
    Number(rang && events.includes("ringing")) +
    Number(answered && events.includes("answered"))
  );
}

/** Queues the call's progress callbacks it asked for, numbered 0, 1, 2 in the order Twilio sends them. */
function progressReporter(rt: RegionRuntime, call: LiveCall, facts: CallFacts, outbound: Outbound) {
  const cb = outbound.statusCallback;
  let sequenceNumber = 0;
  return async (event: OutboundEvent, callStatus: CallStatus | "initiated"): Promise<void> => {
    if (!cb?.events.includes(event)) return;
    const n = sequenceNumber++;
    const params = statusCallbackParams(facts, {
      callStatus: callStatus === "initiated" ? "queued" : callStatus,
      sequenceNumber: n,
      at: call.clock.now(),
    });
    // Twilio reports the first event as CallStatus=initiated, a status no Call resource has.
    params.CallStatus = callStatus;
    // Keyed by its SequenceNumber, as the `completed` callback is: sent once, however often queued.
    const queued = { facts, url: cb.url, method: cb.method, params, key: String(n) };
    await call.clock.holding(() => rt.outbox.statusCallbacks.queue(queued));
  };
}

/** The simulated network: the script's `callees` entry for `to` (answer after 5 s by default). */
async function simulated(
  call: LiveCall,
  to: string,
  outbound: Outbound,
  ringing: () => Promise<void>,
  signal: AbortSignal,
): Promise<AnnounceOutcome> {
  const callee = call.caller?.callees?.[to];
  const outcome = callee?.outcome ?? "answer";
  // A bad number fails at once, without ringing.
  if (outcome === "failed") return { kind: "unanswered", status: "failed" };
  await call.channel.ring();
  await ringing();
  const after = callee?.answerAfter ?? (outcome === "busy" ? DEFAULT_BUSY_AFTER_S : DEFAULT_ANSWER_AFTER_S);
  if (outcome === "no-answer" || after >= outbound.timeoutS) {
    await sleep(call.clock, outbound.timeoutS * 1000, signal);
    return { kind: "unanswered", status: "no-answer" };
  }
  await sleep(call.clock, after * 1000, signal);
  if (outcome === "busy") return { kind: "unanswered", status: "busy" };
  return { kind: "answered", at: call.clock.now() };
}

/**
 * A number switchboard hosts: its inbound call is offered through this call's edge and runs that
 * number's app. Once it answers, either side's end ends the other: the hosted call's end is this
 * call's callee hanging up; this call's end hangs the hosted call up.
 */
async function hosted(
  rt: RegionRuntime,
  call: LiveCall,
  facts: CallFacts,
  region: string,
  outbound: Outbound,
  ringing: () => Promise<void>,
  signal: AbortSignal,
): Promise<AnnounceOutcome> {
  const leg: HostedLeg & { answeredAt: number | null } = {
    facts,
    answeredAt: null,
    ringing: async () => {
      await call.channel.ring();
      await ringing();
    },
    end: async () => {
      if (!call.isClosed) call.channel.callerHungUp();
    },
  };
  // XState aborts an effect without a reason: a hand-over is told apart here, so that the number's
  // call rings on for the worker the call moves to (hosted-callee.ts).
  const cancelled = new AbortController();
  const cancel = () => cancelled.abort(call.whyCancelled(signal.reason));
  if (signal.aborted) cancel();
  else signal.addEventListener("abort", cancel, { once: true });
  // Resumed while it rang (resumeHostedCallee left that call ringing): heard out, not offered again.
  const kept = call.hostedCallee;
  const timeoutS = outbound.timeoutS;
  const attempt = kept
    ? await leg
        .ringing()
        .then(() =>
          resumeHostedRinging(rt, call, leg, kept, { timeoutS }, cancelled.signal, (moved) =>
            call.calledHosted(moved),
          ),
        )
    : await ringHosted(rt, call, leg, region, timeoutS, cancelled.signal, (r, callSid) =>
        call.calledHosted({ region: r, callSid }),
      );
  if (!attempt.answered)
    return {
      kind: "unanswered",
      status: attempt.status === "busy" ? "busy" : attempt.status === "failed" ? "failed" : "no-answer",
    };
  const at = call.clock.now();
  leg.answeredAt = at;
  const bridge = attempt.connect();
  // Its end ends the hosted call, unless it only moved to another worker: it goes on there.
  call.atClose(() => {
    if (!call.handedOver) void bridge.hangup();
  });
  return { kind: "answered", at };
}

/**
 * A resumed outbound call that rang a hosted number (`sb.hostedCallee`). Answered, it is bridged to
 * that call as before: it hears that call's end (or learns from its record that it ended while no
 * worker listened), and its own end hangs that call up. Still ringing (`routed`), that call is left
 * to the call's ringing step, which runs again and takes it back (hosted-take-back.ts). Otherwise
 * (its ringing was over) it is hung up, as a <Dial>'s old legs are (stale-legs.ts).
 */
export async function resumeHostedCallee(
  rt: RegionRuntime,
  call: LiveCall,
  callee: HostedCallRef | undefined,
): Promise<void> {
  // The stored one (a call that rings again names the new one as soon as it is offered), checked:
  // its names go into subjects.
  if (!callee) return;
  if (!HostedCallRefSchema.safeParse(callee).success) {
    rt.log.warn({ callSid: call.callSid, callee }, "the stored hosted callee is not one; not followed");
    return;
  }
  const snapshot = call.actor.getSnapshot();
  if (snapshot.context.answeredAt === null) {
    if (!snapshot.matches("routed")) void hangUpHostedCall(rt, callee);
    return;
  }
  const { nc, subjects } = rt.bus;
  const { ended, stop } = await followHostedCall(rt, callee, call.clock);
  void ended.then(() => {
    if (!call.isClosed) call.channel.callerHungUp();
  });
  call.atClose(() => {
    stop();
    if (!call.handedOver)
      nc.publish(subjects.callIn(callee.region, callee.callSid), encode({ kind: "hangup" }));
  });
}
