// Preloaded into a process the concurrency bench measures (`node --expose-gc --import …/probe.js`,
// or imported): answers the bench's questions over the IPC channel — memory after a full GC, and
// the event loop's delay since the last reset (perf_hooks.monitorEventLoopDelay).
import { monitorEventLoopDelay } from "node:perf_hooks";
import { writeHeapSnapshot } from "node:v8";

export type ProbeRequest = { id: number; type: "memory" | "loop" | "loop-reset" | "heap-snapshot" };
export interface MemoryReport {
  heapUsed: number;
  rss: number;
  external: number;
}
export interface LoopReport {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

// The histogram records each sampling timer's whole interval; the delay is what exceeds RESOLUTION_MS.
const RESOLUTION_MS = 10;
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
delay.enable();

function memory(): MemoryReport {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("the probe needs node --expose-gc");
  // Twice: the first pass may leave finalizable objects for the second.
  gc();
  gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external };
}

function loop(): LoopReport {
  const ms = (ns: number) => Math.max(0, Math.round(ns / 10_000 - RESOLUTION_MS * 100) / 100);
  return { p50Ms: ms(delay.percentile(50)), p99Ms: ms(delay.percentile(99)), maxMs: ms(delay.max) };
}

process.on("message", (m: ProbeRequest) => {
  if (typeof m?.id !== "number") return; // not for the probe
  let value: unknown;
  if (m.type === "memory") value = memory();
  else if (m.type === "loop") value = loop();
  else if (m.type === "loop-reset") delay.reset();
  else if (m.type === "heap-snapshot") value = writeHeapSnapshot();
  process.send?.({ id: m.id, value });
});
