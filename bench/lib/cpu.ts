// CPU time per process from /proc (user + system, every thread), so a bench can say what each
// process costs per call. On 2 cores that, not the wall clock, is what bounds throughput.
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU milliseconds used so far by `pid`, or NaN where /proc is not readable. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Measures each named process's CPU over a piece of work: `const stop = cpuMeter(pids); …; stop()`. */
export function cpuMeter(pids: Record<string, number>): () => Record<string, number> {
  const start = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
  return () =>
    Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid) - (start[name] ?? 0)]));
}
