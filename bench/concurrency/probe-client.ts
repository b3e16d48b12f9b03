// The bench's side of the probe: asks a child process (started with an IPC channel) for its memory
// and event loop delay, and waits for the answer with a bound.
import type { ChildProcess } from "node:child_process";
import type { LoopReport, MemoryReport, ProbeRequest } from "./probe.js";

export interface Probe {
  memory(): Promise<MemoryReport>;
  loop(): Promise<LoopReport>;
  loopReset(): Promise<void>;
  /** Writes a heap snapshot in the child's working directory; resolves with its file name. */
  heapSnapshot(): Promise<string>;
}

export function probeOf(child: ChildProcess, timeoutMs = 120_000): Probe {
  let nextId = 0;
  const waiting = new Map<number, (value: unknown) => void>();
  child.on("message", (m: { id?: unknown; value?: unknown }) => {
    if (typeof m?.id !== "number") return;
    waiting.get(m.id)?.(m.value);
    waiting.delete(m.id);
  });
  const ask = <T>(type: ProbeRequest["type"]) =>
    new Promise<T>((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`the probe did not answer ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(id, (value) => {
        clearTimeout(timer);
        resolve(value as T);
      });
      child.send({ id, type } satisfies ProbeRequest);
    });
  return {
    memory: () => ask<MemoryReport>("memory"),
    loop: () => ask<LoopReport>("loop"),
    loopReset: () => ask<void>("loop-reset"),
    heapSnapshot: () => ask<string>("heap-snapshot"),
  };
}
