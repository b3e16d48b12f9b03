// A second baseline for the concurrency bench: the call machine itself, parked in its Pause with
// every effect an instant in-process fake (no NATS, no webhook, no snapshot writes). Between the bare
// actor and the real worker, it says how much of a parked call is the statechart and how much the
// engine around it. Run forked with --expose-gc; `park` via IPC.
import { createActor, fromPromise } from "xstate";
import {
  type AnnounceOutcome,
  type CallInput,
  callMachine,
  type NumberSetup,
  type VerbInput,
} from "../../machines/call.machine.js";
import type { Verb, VerbOutcome } from "../../src/twiml/verb-data.js";
import "./probe.js";

const NUMBER: NumberSetup = {
  accountSid: `AC${"a".repeat(32)}`,
  phoneNumberSid: `PN${"b".repeat(32)}`,
  apiVersion: "2010-04-01",
  voiceUrl: "https://app.example/voice",
  voiceMethod: "POST",
  fallbackUrl: null,
  fallbackMethod: "POST",
  statusCallback: null,
};
const PARK: Verb[] = [{ name: "Pause", length: 3600 }];
const machine = callMachine.provide({
  actors: {
    loadNumber: fromPromise(async () => NUMBER),
    announceCall: fromPromise(async (): Promise<AnnounceOutcome> => ({ kind: "ringing" })),
    fetchTwiml: fromPromise(async () => ({ documentUrl: NUMBER.voiceUrl, verbs: PARK })),
    answerCall: fromPromise(async () => ({ at: Date.now() })),
    // The one verb actor: a Pause parks for an hour (until stopped); every other verb is instant.
    runVerb: fromPromise<VerbOutcome, VerbInput>(({ input, signal }) =>
      input.verb.name !== "Pause"
        ? Promise.resolve({ kind: "next" })
        : new Promise((resolve) => {
            const timer = setTimeout(() => resolve({ kind: "next" }), 3_600_000);
            signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
          }),
    ),
    endCall: fromPromise(async () => {}),
    // The record write never needs a retry.
    retryDelay: fromPromise(async () => {}),
  },
});
const calls: unknown[] = [];

process.on("message", async (m: { type?: string; count?: number }) => {
  if (m.type !== "park") return;
  for (let i = 0; i < (m.count ?? 0); i++) {
    const input: CallInput = {
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
    calls.push(createActor(machine, { input }).start());
    // A hundred at a time, letting the loop turn in between, as calls arrive at a worker.
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  process.send?.({ type: "parked", count: calls.length });
});
process.send?.({ type: "ready" });
