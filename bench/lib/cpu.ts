// CPU time per process from /proc (user + system, every thread), so a bench can say what each
// process costs per call. On 2 cores that, not the wall clock, is what bounds throughput.
import { readdirSync, readFileSync } from "node:fs";

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
  return meter(pids, cpuMs);
}

/**
 * How many times the threads of `pid` have gone to sleep and been woken so far (their voluntary
 * context switches, summed over every thread), or NaN where /proc is not readable. Per call, it says
 * how often a process had nothing to do: at saturation calls share each wake-up; at a steady rate a
 * message may wake its process on its own, unless the machine is too busy for it to sleep at all.
 */
export function wakeups(pid: number): number {
  try {
    let sum = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
      sum += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
    }
    return sum;
  } catch {
    return Number.NaN;
  }
}

/** Measures each named process's wake-ups over a piece of work, as cpuMeter measures its CPU. */
export function wakeupMeter(pids: Record<string, number>): () => Record<string, number> {
  return meter(pids, wakeups);
}

/** How much of `read` each named process adds between this call and the returned function's. */
function meter(pids: Record<string, number>, read: (pid: number) => number): () => Record<string, number> {
  const start = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, read(pid)]));
  return () =>
    Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, read(pid) - (start[name] ?? 0)]));
}
