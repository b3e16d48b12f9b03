// Finds the processes one test run started and left running. Each run puts a marker of its own in
// the environment (SWITCHBOARD_TEST_RUN, set by test/global/no-leftovers.ts); every process a test
// starts inherits it, orphans re-parented to PID 1 included, so a process is this run's exactly
// when its environment carries this run's marker. Other sessions' runs, with other markers, and
// processes started outside a test run, with none, are never matched.
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { basename } from "node:path";
import { promisify } from "node:util";

export const RUN_MARKER = "SWITCHBOARD_TEST_RUN";

export interface RunProcess {
  pid: number;
  /** Its command line, arguments separated by spaces. */
  args: string;
}

/** What a test may start and must stop: nats-server, the CLI, SIP tools and the browser. */
export function isWatched(argv: string[]): boolean {
  const exe = basename(argv[0] ?? "");
  if (["nats-server", "sipp", "baresip"].includes(exe)) return true;
  if (/chrom|headless_shell/i.test(exe)) return true;
  // The CLI runs as `node …/bin/switchboard.js …`.
  return /^node/.test(exe) && argv.slice(1).some((a) => /(^|\/)(bin\/switchboard\.js|switchboard)$/.test(a));
}

/** The watched processes whose environment has `RUN_MARKER=marker`. */
export async function processesOfRun(marker: string): Promise<RunProcess[]> {
  const entry = `${RUN_MARKER}=${marker}`;
  let pids: string[];
  try {
    pids = (await readdir("/proc")).filter((d) => /^\d+$/.test(d));
  } catch {
    return processesOfRunByPs(entry);
  }
  const found: RunProcess[] = [];
  for (const pid of pids) {
    // A process may end between readdir and here, or belong to another user: skip it.
    const env = await readFile(`/proc/${pid}/environ`, "latin1").catch(() => "");
    if (!env.split("\0").includes(entry)) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0").filter(Boolean);
    if (isWatched(argv)) found.push({ pid: Number(pid), args: argv.join(" ") });
  }
  return found;
}

/** Without /proc (macOS, BSD): `ps e` prints each process's environment after its command. */
async function processesOfRunByPs(entry: string): Promise<RunProcess[]> {
  const { stdout } = await promisify(execFile)("ps", ["-axeww", "-o", "pid=,command="], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.split("\n").flatMap((line) => {
    const [, pid, command = ""] = /^\s*(\d+)\s+(.*)$/.exec(line) ?? [];
    if (!command.split(" ").includes(entry)) return [];
    // The command ends where the first NAME=value of the environment begins.
    const args = command.split(/ (?=[A-Za-z_][A-Za-z0-9_]*=)/)[0] ?? "";
    return isWatched(args.split(" ")) ? [{ pid: Number(pid), args }] : [];
  });
}

/** Polls until the run has no watched process left or `timeoutMs` passes; returns what is left. */
export async function untilGone(marker: string, timeoutMs: number): Promise<RunProcess[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await processesOfRun(marker);
    if (left.length === 0 || Date.now() >= deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
