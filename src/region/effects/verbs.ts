// executing-twiml: answering the call, and `runVerb`, which runs whatever verb the machine's one
// `verb` state hands it by name through the TwiML registry, with only the narrow VerbContext
// (verb-context.ts) in reach.
import { fromPromise } from "xstate";
import type { CallFacts, VerbInput } from "../../../machines/call.machine.js";
import { executeVerb } from "../../twiml/registry.js";
import { CallHandedOver, CallRedirected } from "../../twiml/rooms.js";
import type { VerbOutcome } from "../../twiml/types.js";
import type { LiveCall } from "../host/live-call.js";
import type { RegionRuntime } from "../runtime.js";
import { RegionVerbContext } from "./verb-context.js";

export function answerCall(rt: RegionRuntime) {
  return fromPromise<{ at: number }, { callSid: string }>(async ({ input }) => {
    const call = rt.call(input.callSid);
    await call.channel.answer();
    return { at: call.clock.now() };
  });
}

export function announceCall(rt: RegionRuntime) {
  return fromPromise<void, { facts: CallFacts }>(async ({ input }) => {
    await rt.call(input.facts.callSid).channel.ring();
  });
}

export function runVerb(rt: RegionRuntime) {
  // Not async: the verb's own promise is the actor's, with no frame of ours kept around it while a
  // parked call waits (issue #9). Failures reject, as they would from an async function.
  return fromPromise<VerbOutcome, VerbInput>(({ input, signal }) => {
    try {
      const call = rt.call(input.callSid);
      // One context per call, made for its first verb: a parked call keeps no copy per verb.
      call.verbContext ??= new RegionVerbContext(rt, call);
      const ctx = call.verbContext;
      return executeVerb(ctx, input.verb, HEARS_WHY.has(input.verb.name) ? why(call, signal) : signal);
    } catch (err) {
      return Promise.reject(err);
    }
  });
}

/** The verbs that act on why they were cancelled: a caller who left leaves its conference or queue. */
const HEARS_WHY = new Set<string>(["Enqueue", "Dial"]);

/**
 * A signal whose reason says why the verb was cancelled: its call moved to another worker (it stays
 * in its conference or queue) or to new TwiML (`QueueResult=redirected`), else the caller hung up.
 * Only for HEARS_WHY verbs: a parked call's Pause keeps no second AbortController.
 */
function why(call: LiveCall, signal: AbortSignal): AbortSignal {
  const verbSignal = new AbortController();
  const cancel = () =>
    verbSignal.abort(
      call.handingOver
        ? new CallHandedOver("the call moved to another worker")
        : call.redirecting
          ? new CallRedirected("a REST update gave the call new TwiML")
          : signal.reason,
    );
  if (signal.aborted) cancel();
  else signal.addEventListener("abort", cancel, { once: true });
  return verbSignal.signal;
}
