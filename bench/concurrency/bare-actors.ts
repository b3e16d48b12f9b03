// The concurrency bench's baseline: the least a parked call can be in this design, one XState actor
// per call waiting on a one-hour timer, nothing else. Run forked with --expose-gc; `park` via IPC.
import { createActor, createMachine } from "xstate";
import "./probe.js";

const parked = createMachine({
  initial: "parked",
  states: { parked: { after: { 3600000: "done" } }, done: { type: "final" } },
});
const actors: unknown[] = [];

process.on("message", async (m: { type?: string; count?: number }) => {
  if (m.type !== "park") return;
  // A hundred at a time, letting the loop turn in between, as calls arrive at a worker.
  for (let i = 0; i < (m.count ?? 0); i++) {
    actors.push(createActor(parked).start());
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  process.send?.({ type: "parked", count: actors.length });
});
process.send?.({ type: "ready" });
