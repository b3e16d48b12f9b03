// The call machine provided with this region's real effects: made once per host, shared by its calls.
// Each effect finds its call by CallSid (`callOf`); what they share of the region comes from `rt`.
import { callMachine } from "../../../machines/call.machine.js";
import { failedResponseOf, formEncodedHeaders } from "../../webhook/failures.js";
import type { CallLookup } from "../host/live-call.js";
import type { RegionRuntime } from "../runtime.js";
import { endCall } from "./end-call.js";
import { fetchTwiml } from "./fetch-twiml.js";
import { loadNumber } from "./load-number.js";
import { retryDelay } from "./timers.js";
import { announceCall, answerCall, runVerb } from "./verbs.js";

export function regionCallMachine(rt: RegionRuntime, callOf: CallLookup) {
  const { notifier } = rt.outbox;
  return callMachine.provide({
    actors: {
      loadNumber: loadNumber(rt, callOf),
      announceCall: announceCall(rt, callOf),
      fetchTwiml: fetchTwiml(rt, callOf),
      answerCall: answerCall(callOf),
      endCall: endCall(rt, callOf),
      retryDelay: retryDelay(),
      runVerb: runVerb(rt, callOf),
    },
    actions: {
      reportError: ({ context, event }, params) => {
        // Fetch failures name the request that failed and what its server answered, as Twilio's
        // notifications do (the answer rides on the actor's error event; the machine keeps none of it).
        const request = context.request;
        const response = failedResponseOf((event as { error?: unknown }).error);
        notifier.notify({
          accountSid: context.facts.accountSid ?? "",
          callSid: context.facts.callSid,
          level: "error",
          code: params.code,
          message: params.message,
          ...(request && { requestUrl: request.url, requestMethod: request.method }),
          ...(response && {
            responseBody: response.body,
            responseHeaders: formEncodedHeaders(response.headers),
          }),
        });
      },
    },
  });
}

/** The call machine as a host provides it. */
export type RegionCallMachine = ReturnType<typeof regionCallMachine>;
