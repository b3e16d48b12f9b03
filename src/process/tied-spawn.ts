// Child processes that cannot outlive this one. On Linux a child is started through util-linux's
// `setpriv --pdeathsig KILL`, which sets the kernel's parent-death signal and then execs the program
// (same pid), so the child is killed even when this process is SIGKILLed and no exit hook runs.
import {
  type ChildProcessWithoutNullStreams,
  type SpawnOptionsWithoutStdio,
  spawn,
} from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

/** The absolute path of `program` as a shell would find it on PATH, or undefined. */
export function findOnPath(program: string): string | undefined {
  const executable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (isAbsolute(program) || program.includes("/")) return executable(program) ? program : undefined;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && executable(join(dir, program))) return join(dir, program);
  }
  return undefined;
}

let setpriv: string | undefined | null = null;
const setprivPath = () => {
  if (setpriv === null) setpriv = process.platform === "linux" ? findOnPath("setpriv") : undefined;
  return setpriv;
};

/** Whether children started by spawnTied die with this process (Linux with setpriv installed). */
export function childrenDieWithParent(): boolean {
  return setprivPath() !== undefined;
}

/**
 * `spawn(program, args, options)` with piped stdio, but the child gets SIGKILL when this process dies. Where setpriv
 * is missing (macOS, a minimal image) it is a plain spawn: exit hooks then only cover a clean exit.
 * The parent-death signal belongs to the spawning thread; Node spawns from its main thread, so it
 * fires when the process ends. A program not on PATH is spawned directly so the caller sees ENOENT.
 */
export function spawnTied(
  program: string,
  args: readonly string[],
  options: SpawnOptionsWithoutStdio = {},
): ChildProcessWithoutNullStreams {
  const [command, argv] = tiedCommand(program, args);
  return spawn(command, argv, options);
}

/**
 * The command and arguments that run `program` tied to this process (see spawnTied), for a caller
 * that spawns it with stdio or an IPC channel of its own; `[program, args]` where it cannot be tied.
 */
export function tiedCommand(program: string, args: readonly string[]): [string, string[]] {
  const wrapper = setprivPath();
  const resolved = findOnPath(program);
  if (!wrapper || !resolved) return [program, [...args]];
  return [wrapper, ["--pdeathsig", "KILL", "--", resolved, ...args]];
}
