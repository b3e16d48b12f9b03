// A preload (`node --import`) for the benches' pipeline processes, set up by BENCH_HEAP: V8's sampling
// heap profiler over everything the process allocates, the objects the GC has collected included
// (`--heap-prof` keeps only what is still alive at exit, which says nothing about garbage). The first
// SIGUSR2 starts it; the second writes `heap.<pid>.heapprofile` (Chrome's format) to BENCH_HEAP_DIR.
// Garbage is what the workers' scavenges cost and what their latency tail follows (bench/README.md).
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { heapProfileFile, samplingOptions } from "./heap-profile-file.js";

/** One sample per this many bytes allocated, on average: fine enough for per-call figures of a few KB. */
const HEAP_SAMPLING_BYTES = 4_096;

const dir = process.env.BENCH_HEAP_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  let sampling = false;
  process.on("SIGUSR2", () => {
    if (!sampling) {
      sampling = true;
      session.post("HeapProfiler.startSampling", samplingOptions(HEAP_SAMPLING_BYTES));
      return;
    }
    sampling = false;
    session.post("HeapProfiler.stopSampling", (err, result) => {
      if (err) process.stderr.write(`heap sampling failed: ${err.message}\n`);
      else writeFileSync(heapProfileFile(dir, process.pid), JSON.stringify(result.profile));
    });
  });
}
