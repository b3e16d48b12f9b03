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

/**
 * Runs this process again with SERVICE_V8_FLAGS when its command is a service and node was not
 * given them; otherwise returns. Not when a parent forked it with an IPC channel (the channel does
 * not survive the exec: that parent passes the flags itself, as bench/concurrency.ts does), nor on a
 * node without `process.execve` (before 22.15, or Windows): the process then runs without them.
 */
export function startWithServiceFlags(
  argv: readonly string[] = process.argv,
  execArgv: readonly string[] = process.execArgv,
): void {
  if (!SERVICES.has(argv[2] ?? "")) return;
  const missing = SERVICE_V8_FLAGS.filter((flag) => !execArgv.includes(flag));
  if (missing.length === 0 || process.channel !== undefined) return;
  if (typeof process.execve !== "function") return;
  process.execve(
    process.execPath,
    [process.execPath, ...missing, ...execArgv, ...argv.slice(1)],
    process.env,
  );
}

/** Which of SERVICE_V8_FLAGS this process runs with. */
export function serviceFlagsInEffect(execArgv: readonly string[] = process.execArgv): string[] {
  return SERVICE_V8_FLAGS.filter((flag) => execArgv.includes(flag));
}
