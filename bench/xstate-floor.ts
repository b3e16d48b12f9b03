// The XState floor of one call (issue #20): the call machine with instant in-process fake effects,
// `<Say>` then the end, one call after another. What the design's statechart costs before any I/O,
// with and without an `inspect` observer like the worker's.
//   node dist/bench/xstate-floor.js [calls]
import { performance } from "node:perf_hooks";
import { type AnyActorRef, createActor, fromPromise, type InspectionEvent } from "xstate";
import {
  type AnnounceOutcome,
  type CallInput,
  callMachine,
  type NumberSetup,
} from "../machines/call.machine.js";
import type { Verb, VerbOutcome } from "../src/twiml/verb-data.js";

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
const SAY: Verb[] = [{ name: "Say", text: "Hi", voice: "man", language: "en-US", loop: 1 }];
const machine = callMachine.provide({
  actors: {
    loadNumber: fromPromise(async () => NUMBER),
    announceCall: fromPromise(async (): Promise<AnnounceOutcome> => ({ kind: "ringing" })),
    fetchTwiml: fromPromise(async () => ({ documentUrl: NUMBER.voiceUrl, verbs: SAY })),
    answerCall: fromPromise(async () => ({ at: Date.now() })),
    runVerb: fromPromise(async (): Promise<VerbOutcome> => ({ kind: "next" })),
    endCall: fromPromise(async () => {}),
    retryDelay: fromPromise(async () => {}),
  },
});

async function oneCall(i: number, inspect: boolean): Promise<number> {
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
  let root: AnyActorRef | undefined;
  let changes = 0; // what the worker's observer does with a state change: count it
  const actor = createActor(machine, {
    input,
    ...(inspect && {
      inspect: (ev: InspectionEvent) => {
        if (ev.type === "@xstate.snapshot" && ev.actorRef === root) changes++;
      },
    }),
  });
  root = actor;
  await new Promise<void>((resolve) => {
    actor.subscribe({ complete: resolve });
    actor.start();
  });
  return changes;
}

const calls = Number(process.argv[2] ?? 20_000);
for (const inspect of [false, true, false, true]) {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) await oneCall(i, inspect);
  const cpu = process.cpuUsage(cpu0);
  const ms = (cpu.user + cpu.system) / 1000 / calls;
  process.stdout.write(
    `inspect ${inspect ? "on " : "off"}: ${ms.toFixed(4)} ms CPU per call (${((performance.now() - t0) / calls).toFixed(4)} ms wall)\n`,
  );
}
