// Child processes for the benches: the real `switchboard` CLI (as an operator runs it) and the bench's
// own entry files, each started on loopback, awaited until it logs `ready`, and stopped by its pid.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { tiedCommand } from "../../src/process/tied-spawn.js";

const BIN = fileURLToPath(new URL("../../../bin/switchboard.js", import.meta.url));

export interface BenchProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves once the process logged `ready`; rejects when it exits first or after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGTERM (SIGKILL after `graceMs`); resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
  /** The last 16 KiB it printed. */
  output(): string;
}

export interface SpawnOptions {
  /** Extra node flags, e.g. --expose-gc or --cpu-prof. */
  nodeArgs?: string[];
  env?: Record<string, string>;
  /** Opens an IPC channel (for the probe of bench/concurrency). */
  ipc?: boolean;
}

/** `switchboard <args>` in its own process. */
export function spawnCli(name: string, args: string[], opts: SpawnOptions = {}): BenchProcess {
  return spawnNode(name, BIN, args, opts);
}

/** A compiled bench entry file (under dist/bench) in its own process. */
export function spawnBench(
  name: string,
  script: string,
  args: string[],
  opts: SpawnOptions = {},
): BenchProcess {
  return spawnNode(name, fileURLToPath(new URL(`../${script}`, import.meta.url)), args, opts);
}

function spawnNode(name: string, file: string, args: string[], opts: SpawnOptions): BenchProcess {
  // Tied to the bench: a bench stopped by a signal (Ctrl-C on its pid, a CI timeout) leaves no
  // pipeline process running (it exits without its `finally`).
  const [command, argv] = tiedCommand(process.execPath, [...(opts.nodeArgs ?? []), file, ...args]);
  const child = spawn(command, argv, {
    env: { ...process.env, LOG_LEVEL: "info", ...opts.env },
    stdio: opts.ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let isReady = false;
  const waiters = new Set<() => void>();
  const onOutput = (chunk: Buffer) => {
    // Only the start matters (ready or why not): keep a bounded tail, never the whole log.
    out = (out + chunk.toString("utf8")).slice(-16_384);
    if (!isReady && /"msg":"ready"/.test(out)) {
      isReady = true;
      for (const w of waiters) w();
    }
  };
  child.stdout?.on("data", onOutput);
  child.stderr?.on("data", onOutput);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;

  return {
    name,
    child,
    ready: (timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        if (isReady) return resolve();
        const timer = setTimeout(() => fail(`not ready within ${timeoutMs} ms`), timeoutMs);
        const fail = (why: string) => {
          clearTimeout(timer);
          reject(new Error(`${name} ${why}:\n${out}`));
        };
        waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
        void exited.then(() => {
          if (!isReady) fail("exited before it was ready");
        });
      }),
    stop: async (graceMs = 15_000) => {
      if (!running()) return;
      child.kill("SIGTERM");
      const hard = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(hard);
    },
    output: () => out,
    kill: async () => {
      if (running()) child.kill("SIGKILL");
      await exited;
    },
  };
}
