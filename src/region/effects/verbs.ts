// executing-twiml: answering the call and running each verb through the TwiML registry, with only
// the narrow VerbContext (channel, clock, warnings) in reach.
import { fromPromise } from "xstate";
import type { CallFacts, VerbInput } from "../../../machines/call.machine.js";
import { VERB_NAMES } from "../../../machines/call.setup.js";
import { errorCodeInfo } from "../../errors/codes.js";
import { executeVerb } from "../../twiml/registry.js";
import { CallHandedOver, CallRedirected } from "../../twiml/rooms.js";
import type { VerbContext, VerbName, VerbOutcome } from "../../twiml/types.js";
import { conferencePort } from "../conferences.js";
import { regionDialNetwork } from "../dial-network.js";
import type { LiveCall } from "../live-call.js";
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
    // One context per call, made for its first verb: a parked call keeps no copy per verb.
    call.verbContext ??= verbContext(rt, call);
    return executeVerb(
      call.verbContext,
      input.verb,
      HEARS_WHY.has(input.verb.name) ? why(call, signal) : signal,
    );
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

function verbContext(rt: RegionRuntime, call: LiveCall): VerbContext {
  // The facts are final once the call is routed, which is before any verb runs.
  const facts = call.actor.getSnapshot().context.facts;
  const identity = {
    callSid: facts.callSid,
    accountSid: facts.accountSid ?? "",
    from: facts.from,
    to: facts.to,
    direction: facts.direction,
    region: facts.region,
    // A call that came in over SIP (a SIP gateway or a SIP domain) has SIP headers or a sip: caller.
    transport:
      facts.sip || facts.sipHeaders || facts.from.startsWith("sip:") ? ("sip" as const) : ("pstn" as const),
  };
  const ctx: VerbContext = {
    channel: call.channel,
    // The call's streams report through this context; failures to open are errors (31920…).
    streams: call.streams.port(
      () => ctx,
      (code, message) =>
        rt.notifier.notify({
          accountSid: identity.accountSid,
          callSid: identity.callSid,
          level: "error",
          code,
          message,
        }),
    ),
    clock: call.clock,
    call: identity,
    warn: (code, message) => {
      rt.notifier.notify({
        accountSid: facts.accountSid ?? "",
        callSid: facts.callSid,
        // The registry says how grave a code is: an 11200 from a prompt's media is an error.
        level: errorCodeInfo(code)?.level ?? "warning",
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
    // Storing is real-time work: simulated time must not run on (and end the call) meanwhile.
    recordings: rt.recordings.port(identity, (work) => call.clock.holding(work)),
    legs: regionDialNetwork(rt, call, facts),
    answer: async () => {
      if (call.actor.getSnapshot().context.answeredAt !== null) return;
      await call.channel.answer();
      call.actor.send({ type: "verb.answered", at: call.clock.now() });
    },
  };
  return ctx;
}

export function verbActors(rt: RegionRuntime): Record<VerbName, ReturnType<typeof runVerb>> {
  const run = runVerb(rt);
  return Object.fromEntries(VERB_NAMES.map((name) => [name, run])) as Record<VerbName, typeof run>;
}
