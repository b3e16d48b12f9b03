// The XState floor of one call (issue #20): the call machine with instant in-process fake effects,
// `<Say>` then the end, one call after another. What the design's statechart costs before any I/O,
// with and without an `inspect` observer like the worker's; then what a call allocates (the
// garbage included: V8's sampling heap profiler, as BENCH_HEAP samples the workers).
//   node dist/bench/xstate-floor.js [calls]
import { Session } from "node:inspector/promises";
import { performance } from "node:perf_hooks";
import { type AnyActorRef, createActor, type InspectionEvent } from "xstate";
import type { Verb } from "../src/twiml/verb-data.js";
import { type HeapProfile, summarizeHeap } from "./heap-summary.js";
import { fakeCallInput, fakeCallMachine } from "./lib/fake-call.js";
import { samplingOptions } from "./lib/heap-profile-file.js";

const SAY: Verb[] = [{ name: "Say", text: "Hi", voice: "man", language: "en-US", loop: 1 }];
const machine = fakeCallMachine(SAY);

async function oneCall(i: number, inspect: boolean): Promise<number> {
  const input = fakeCallInput(i);
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

const session = new Session();
session.connect();
for (const inspect of [false, true]) {
  const sampled = Math.min(calls, 5_000);
  await session.post("HeapProfiler.startSampling", samplingOptions(1_024));
  for (let i = 0; i < sampled; i++) await oneCall(i, inspect);
  const { profile } = await session.post("HeapProfiler.stopSampling");
  const s = summarizeHeap(profile as HeapProfile, sampled);
  process.stdout.write(`inspect ${inspect ? "on " : "off"}: ${s.kibPerCall} KiB allocated per call\n`);
}
session.disconnect();
