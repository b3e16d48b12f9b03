// Where the heap-sampling preload (heap-sampling.ts) writes a process's profile: kept apart from the
// preload, which starts listening for signals as it is imported.
import { join } from "node:path";

export function heapProfileFile(dir: string, pid: number): string {
  return join(dir, `heap.${pid}.heapprofile`);
}
