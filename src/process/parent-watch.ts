// Noticing that the process which started this one is gone. `npx switchboard …` runs
// npm → `sh -c switchboard …` → node: a SIGTERM to npm's pid kills npm and the shell, never node,
// which is re-parented and would run on with its nats-server. Neither npm nor dash passes the signal
// on, and Node cannot set a parent-death signal on itself, so the parent pid is polled instead.

/**
 * Calls `onExit` once when this process's parent is no longer `parent` (it exited and we were
 * re-parented). Pass the parent seen before the work that could outlast it: one that went while a
 * service was starting, before the watch began, is then noticed at the first look.
 */
export function onParentExit(onExit: () => void, intervalMs = 200, parent = process.ppid): () => void {
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onExit();
  }, intervalMs);
  timer.unref(); // never what keeps the process alive
  return () => clearInterval(timer);
}

/** True when npm (npm start, npx, npm exec) started this process, with a shell in between. */
export const startedByNpm = () => process.env.npm_lifecycle_event !== undefined;
