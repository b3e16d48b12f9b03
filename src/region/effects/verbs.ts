// executing-twiml: answering the call and running each verb through the TwiML registry, with only
// the narrow VerbContext (channel, clock, warnings) in reach.
import { fromPromise } from "xstate";
import type { CallFacts, VerbInput } from "../../../machines/call.machine.js";
import { VERB_NAMES } from "../../../machines/call.setup.js";
import { executeVerb } from "../../twiml/registry.js";
import { CallHandedOver, CallRedirected } from "../../twiml/rooms.js";
import type { VerbContext, VerbName, VerbOutcome } from "../../twiml/types.js";
import { conferencePort } from "../conferences.js";
import { queuePort } from "../queues.js";
import type { RegionRuntime } from "../runtime.js";
import { verbFetchTwiml } from "./verb-fetch.js";

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
    const facts = call.actor.getSnapshot().context.facts;
    const identity = { accountSid: facts.accountSid ?? "", callSid: facts.callSid };
    const ctx: VerbContext = {
      channel: call.channel,
      clock: call.clock,
      call: {
        callSid: facts.callSid,
        accountSid: facts.accountSid ?? "",
        from: facts.from,
        to: facts.to,
        direction: facts.direction,
        region: facts.region,
      },
      warn: (code, message) => {
        rt.notifier.notify({
          accountSid: facts.accountSid ?? "",
          callSid: facts.callSid,
          level: "warning",
          code,
          message,
        });
      },
      callback: (request) =>
        call.clock.holding(() =>
          rt.statusCallbacks.queue({ facts, ...request, params: { ...request.params } }),
        ),
      fetchTwiml: verbFetchTwiml(rt, call, facts),
      conferences: conferencePort(rt.conferences, rt.nc, call.clock, identity),
      queues: queuePort(rt.queues, rt.nc, call.clock, identity),
    };
    // A verb hears why it was cancelled when its call moves to another worker or to new TwiML.
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
    return executeVerb(ctx, input.verb, verbSignal.signal);
  });
}

export function verbActors(rt: RegionRuntime): Record<VerbName, ReturnType<typeof runVerb>> {
  const run = runVerb(rt);
  return Object.fromEntries(VERB_NAMES.map((name) => [name, run])) as Record<VerbName, typeof run>;
}
