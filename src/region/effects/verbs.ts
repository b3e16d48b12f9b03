// executing-twiml: answering the call and running each verb through the TwiML registry, with only
// the narrow VerbContext (channel, clock, warnings) in reach.
import { fromPromise } from "xstate";
import type { CallFacts, VerbInput } from "../../../machines/call.machine.js";
import { executeVerb } from "../../twiml/registry.js";
import type { VerbName, VerbOutcome } from "../../twiml/types.js";
import type { RegionRuntime } from "../runtime.js";

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
  return fromPromise<VerbOutcome, VerbInput>(async ({ input, signal }) => {
    const call = rt.call(input.callSid);
    const ctx = {
      channel: call.channel,
      clock: call.clock,
      warn: (code: number, message: string) => {
        const accountSid = call.actor.getSnapshot().context.facts.accountSid ?? "";
        rt.notifier.notify({ accountSid, callSid: input.callSid, level: "warning", code, message });
      },
    };
    return executeVerb(ctx, input.verb, signal);
  });
}

export function verbActors(rt: RegionRuntime): Record<VerbName, ReturnType<typeof runVerb>> {
  const run = runVerb(rt);
  return { Say: run, Play: run, Pause: run, Hangup: run, Reject: run, Redirect: run, Gather: run };
}
