// Where the heap-sampling preload (heap-sampling.ts) writes a process's profile, and how it samples
// (xstate-floor.ts samples the same way): kept apart from the preload, which starts listening for
// signals as it is imported.
import { join } from "node:path";

export function heapProfileFile(dir: string, pid: number): string {
  return join(dir, `heap.${pid}.heapprofile`);
}

/**
 * V8's sampling heap profiler over everything allocated: one sample per `samplingInterval` bytes on
 * average, the objects the GC has collected included (`--heap-prof` keeps only what is still alive).
 */
export function samplingOptions(samplingInterval: number) {
  return {
    samplingInterval,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  };
}
