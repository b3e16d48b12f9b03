// A second baseline for the concurrency bench: the call machine itself, parked in its Pause with
// every effect an instant in-process fake (no NATS, no webhook, no snapshot writes). Between the bare
// actor and the real worker, it says how much of a parked call is the statechart and how much the
// engine around it. Run forked with --expose-gc; `park` via IPC.
import { createActor, fromPromise } from "xstate";
import type { VerbInput } from "../../machines/call.machine.js";
import type { Verb, VerbOutcome } from "../../src/twiml/verb-data.js";
import { fakeCallInput, fakeCallMachine } from "../lib/fake-call.js";
import "./probe.js";

const PARK: Verb[] = [{ name: "Pause", length: 3600 }];
const machine = fakeCallMachine(PARK, {
  // The one verb actor: a Pause parks for an hour (until stopped); every other verb is instant.
  runVerb: fromPromise<VerbOutcome, VerbInput>(({ input, signal }) =>
    input.verb.name !== "Pause"
      ? Promise.resolve({ kind: "next" })
      : new Promise((resolve) => {
          const timer = setTimeout(() => resolve({ kind: "next" }), 3_600_000);
          signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
        }),
  ),
});
const calls: unknown[] = [];

process.on("message", async (m: { type?: string; count?: number }) => {
  if (m.type !== "park") return;
  for (let i = 0; i < (m.count ?? 0); i++) {
    const input = fakeCallInput(i);
    calls.push(createActor(machine, { input }).start());
    // A hundred at a time, letting the loop turn in between, as calls arrive at a worker.
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  process.send?.({ type: "parked", count: calls.length });
});
process.send?.({ type: "ready" });
