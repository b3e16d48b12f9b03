// The call machine with every effect an instant in-process fake (no NATS, no webhook, no store), for
// the benches that measure the statechart alone: the XState floor, the parked-call baseline and the
// inspection variants. Each gives the document its calls run and, where it needs one, its own actor.
import { fromPromise } from "xstate";
import {
  type AnnounceOutcome,
  type CallInput,
  callMachine,
  type NumberSetup,
} from "../../machines/call.machine.js";
import type { Verb, VerbOutcome } from "../../src/twiml/verb-data.js";

export const FAKE_NUMBER: NumberSetup = {
  accountSid: `AC${"a".repeat(32)}`,
  phoneNumberSid: `PN${"b".repeat(32)}`,
  apiVersion: "2010-04-01",
  voiceUrl: "https://app.example/voice",
  voiceMethod: "POST",
  fallbackUrl: null,
  fallbackMethod: "POST",
  statusCallback: null,
};

type Actors = Parameters<typeof callMachine.provide>[0]["actors"];

/** The machine answering `verbs` at the number's URL; `actors` replace the instant defaults. */
export function fakeCallMachine(verbs: Verb[], actors: Actors = {}) {
  return callMachine.provide({
    actors: {
      loadNumber: fromPromise(async () => FAKE_NUMBER),
      announceCall: fromPromise(async (): Promise<AnnounceOutcome> => ({ kind: "ringing" })),
      fetchTwiml: fromPromise(async () => ({ documentUrl: FAKE_NUMBER.voiceUrl, verbs })),
      answerCall: fromPromise(async () => ({ at: Date.now() })),
      runVerb: fromPromise(async (): Promise<VerbOutcome> => ({ kind: "next" })),
      endCall: fromPromise(async () => {}),
      // The 4-hour limit never comes in a bench; the record write never needs a retry.
      retryDelay: fromPromise(async () => {}),
      ...actors,
    },
  });
}

/** The i-th bench call's input: an inbound call to the fake number. */
export function fakeCallInput(i: number): CallInput {
  return {
    facts: {
      callSid: `CA${i.toString(16).padStart(32, "0")}`,
      to: "+15551230001",
      from: "+15557654321",
      region: "us1",
      edge: "ashburn",
      direction: "inbound",
    },
    arrivedAt: Date.now(),
  };
}
