// executing-twiml: answering the call, and `runVerb`, which runs whatever verb the machine's one
// `verb` state hands it by name through the TwiML registry, with only the narrow VerbContext
// (verb-context.ts) in reach.
import { fromPromise } from "xstate";
import type { AnnounceOutcome, CallFacts, VerbInput } from "../../../machines/call.machine.js";
import { executeVerb } from "../../twiml/registry.js";
import type { VerbOutcome } from "../../twiml/verb-data.js";
import { ringCallee } from "../dial/outbound-callee.js";
import type { CallLookup, LiveCall } from "../host/live-call.js";
import type { RegionRuntime } from "../runtime.js";
import { RegionVerbContext } from "./verb-context.js";

export function answerCall(callOf: CallLookup) {
  return fromPromise<{ at: number }, { callSid: string }>(async ({ input }) => {
    const call = callOf(input.callSid);
    await call.channel.answer();
    return { at: call.clock.now() };
  });
}

/** Inbound: the channel rings. Outbound (REST): the callee is rung (outbound-callee.ts). */
export function announceCall(rt: RegionRuntime, callOf: CallLookup) {
  return fromPromise<AnnounceOutcome, { facts: CallFacts }>(async ({ input, signal }) => {
    const call = callOf(input.facts.callSid);
    if (call.outbound) return ringCallee(rt, call, input.facts, call.outbound, signal);
    await call.channel.ring();
    return { kind: "ringing" };
  });
}

export function runVerb(rt: RegionRuntime, callOf: CallLookup) {
  // One per host, not one closure per call.
  const contextOf = (call: LiveCall) => new RegionVerbContext(rt, call);
  // Not async: the verb's own promise is the actor's, with no frame of ours kept around it while a
  // parked call waits (issue #9). Failures reject, as they would from an async function.
  return fromPromise<VerbOutcome, VerbInput>(({ input, signal }) => {
    try {
      const call = callOf(input.callSid);
      // One context per call, made for its first verb: a parked call keeps no copy per verb.
      const ctx = call.verbContext(contextOf);
      // A resumed call's <Start> streams report through the context: its streams port takes them back
      // (a <Connect> one waits for its verb).
      if (call.restoringStreams) void ctx.streams;
      return executeVerb(ctx, input.verb, HEARS_WHY.has(input.verb.name) ? why(call, signal) : signal);
    } catch (err) {
      return Promise.reject(err);
    }
  });
}

/**
 * The verbs that act on why they were cancelled: a caller who left leaves its conference or queue; a
 * call handed to another worker keeps its bridge, conference or recording for that worker.
 */
const HEARS_WHY: ReadonlySet<string> = new Set(["Enqueue", "Dial", "Record"]);

/**
 * A signal whose reason says why the verb was cancelled: its call moved to another worker (it stays
 * in its conference or queue) or to new TwiML (`QueueResult=redirected`), else the caller hung up.
 * Only for HEARS_WHY verbs: a parked call's Pause keeps no second AbortController.
 */
function why(call: LiveCall, signal: AbortSignal): AbortSignal {
  const verbSignal = new AbortController();
  const cancel = () => verbSignal.abort(call.whyCancelled(signal.reason));
  if (signal.aborted) cancel();
  else signal.addEventListener("abort", cancel, { once: true });
  return verbSignal.signal;
}
