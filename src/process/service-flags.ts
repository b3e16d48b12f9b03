// V8 flags a process on a call's path (`switchboard up`, `edge`, `region`) starts with. V8 reads
// them only while it sets up the heap, before any JavaScript runs, so `v8.setFlagsFromString` is too
// late and NODE_OPTIONS does not take them: the CLI's entry (bin/switchboard.js) runs such a command
// again in place, with the flags on node's command line (`process.execve`: the same pid, stdio,
// arguments and environment, so a supervisor, a `kill` or a test's pid still names it).

/** The commands whose process carries calls (each also calls process/heap-tuning.ts). */
const SERVICES = new Set(["up", "edge", "region"]);

/**
 * `--no-memory-reducer`: V8's memory reducer gives memory back to an idle process. 8 s after the
 * allocation rate drops it runs full GCs that shrink the old generation's limit and the young
 * generation to their minimum, so the next burst of calls meets a heap that must grow back:
 * scavenges every few milliseconds and a full GC every few hundred, on every call's path, and a
 * backlog that a busy machine drains slowly. Measured (bench/README.md, fifteenth session): at 700
 * calls/s after a saturated spell and 30 s of quiet, the first 5 s's offer → webhook p99 was
 * 323–653 ms with it and 27–41 ms without; 100,000 parked calls cost the same heap and RSS. An idle
 * process keeps the heap its last burst needed; V8 still collects it as calls come.
 */
export const SERVICE_V8_FLAGS: readonly string[] = ["--no-memory-reducer"];

/** `--memory-reducer`, `--no-memory-reducer`, `--memory_reducer`…: V8 takes the last one given. */
const memoryReducerFlag = /^--(no-)?memory[-_]reducer$/;

/**
 * Runs this process again with SERVICE_V8_FLAGS when its command is a service; otherwise returns.
 * It runs as it was started when:
 * - node was given the memory reducer's flag, either way: ours from this exec, or an operator's;
 * - a debugger is asked for (`--inspect…`: it would attach to the process that goes away);
 * - a parent forked it with an IPC channel, which does not survive the exec (that parent passes the
 *   flags itself, as bench/concurrency.ts does);
 * - the exec is not possible here (see canStartAgain).
 * Preloaded modules (`--import`, `--require`) run again in the new image.
 */
export function startWithServiceFlags(): void {
  if (!SERVICES.has(process.argv[2] ?? "")) return;
  const { execArgv } = process;
  if (execArgv.some((a) => memoryReducerFlag.test(a) || a.startsWith("--inspect"))) return;
  if (process.channel !== undefined || !canStartAgain()) return;
  process.execve?.(process.execPath, [
    process.execPath,
    ...SERVICE_V8_FLAGS,
    ...execArgv,
    ...process.argv.slice(1),
  ]);
}

/**
 * Whether this node can run its process again in place: `process.execve` (Node 22.15 on) outside
 * Windows (where it throws), and, under Node's permission model, with leave to start processes.
 */
export function canStartAgain(): boolean {
  if (typeof process.execve !== "function" || process.platform === "win32") return false;
  return process.permission?.has("child") ?? true;
}

/** Whether this process runs without the memory reducer: the last of its flags says so. */
export function memoryReducerOff(): boolean {
  return process.execArgv.findLast((a) => memoryReducerFlag.test(a))?.startsWith("--no-") === true;
}
