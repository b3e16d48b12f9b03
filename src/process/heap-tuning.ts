// V8 heap settings for a process on a call's path (`switchboard region`, `switchboard edge`,
// `switchboard up`), applied once before its first call. Measured for issue #20 (bench/README.md,
// seventh and eighth sessions).
import { setFlagsFromString } from "node:v8";
import { memoryReducerOff } from "./service-flags.js";

let tuned = false;

/**
 * Turns off V8's allocation-site pretenuring. V8 moves an allocation site to the old generation
 * once most of its objects survive scavenges; a burst of calls in flight (a cold start, a surge,
 * `npm run bench`'s 200 at once) does that to the sites of every XState actor's system and scope,
 * and the decision sticks. From then on each call's actors are born old, are garbage within
 * milliseconds that only a full GC frees, and keep alive every young object they point to. At 774
 * calls/s (Node 22) each scavenge then copied ~0.9 MB and promoted ~0.8 MB, took 4–5 ms at the
 * median and filled the old generation for a 10–40 ms full GC every few seconds; without it, 0.3 MB
 * and 0.23 MB, 3 ms. The edge's scavenges were as slow (three JetStream requests an offer): at 725
 * offers/s 2–4 ms at the median, 21 ms at most, with a 5–27 ms full GC every few seconds, all on the
 * offer's path; without it, 1.4 ms and 5–8 ms, and no full GC. Process-wide, so only processes on
 * a call's path ask for it.
 */
export function tuneHeapForCalls(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString("--no-allocation-site-pretenuring");
}

/**
 * What this process changed of V8's heap, for its `ready` line; undefined when nothing. The memory
 * reducer is turned off on node's command line, as the CLI starts a service (service-flags.ts).
 */
export function heapTuning(): string | undefined {
  const changes = tuned ? ["allocation-site pretenuring off"] : [];
  if (memoryReducerOff()) changes.push("memory reducer off");
  return changes.length ? changes.join(", ") : undefined;
}
