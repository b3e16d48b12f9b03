// Runs the real `switchboard` CLI as a child process, as a user would, and waits on what it prints.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** bin/switchboard.js, found from the package root (this file also runs compiled, from dist/). */
const BIN = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) || !existsSync(join(dir, "bin", "switchboard.js"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the switchboard package root");
    dir = up;
  }
  return join(dir, "bin", "switchboard.js");
})();

export interface CliProcess extends AsyncDisposable {
  readonly child: ChildProcess;
  /** Everything printed so far (stdout + stderr). */
  output(): string;
  /** Resolves with the first stdout line matching, or rejects after `timeoutMs` or when the process exits. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the first JSON log line whose `msg` equals `msg`. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM (SIGKILL after 10 s); resolves with the exit code. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

/** The package root (where package.json and bin/ are). */
export const PACKAGE_ROOT = dirname(dirname(BIN));

/**
 * Starts the CLI with `args`. `launcher` is what runs it: by default `node bin/switchboard.js`, or
 * e.g. `["npx", "switchboard"]` or `["npm", "start", "--"]` (run from the package root) as users do.
 */
export function startCli(
  args: string[],
  env: Record<string, string> = {},
  launcher: string[] = [process.execPath, BIN],
): CliProcess {
  const [command = process.execPath, ...before] = launcher;
  const child = spawn(command, [...before, ...args], {
    cwd: PACKAGE_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let buffered = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    buffered += chunk;
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    lines.push(...parts);
    for (const w of waiters) w();
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  exited.then(() => {
    for (const w of waiters) w();
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });

  const waitForLine = (pattern: RegExp, timeoutMs = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = lines.find((l) => pattern.test(l));
        if (line !== undefined) finish(() => resolve(line));
        else if (done) finish(() => reject(new Error(`process exited before printing ${pattern}:\n${out}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${out}`))),
        timeoutMs,
      );
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        fn();
      };
      waiters.add(check);
      check();
    });

  const stop = async () => {
    if (!done) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    return exited;
  };

  return {
    child,
    exited,
    output: () => out,
    waitForLine,
    waitForLog: async (msg, timeoutMs) =>
      JSON.parse(await waitForLine(new RegExp(`"msg":"${msg}"`), timeoutMs)) as Record<string, unknown>,
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

/**
 * Runs a one-shot command to its end. `stdoutClosed`: its stdout is a pipe nobody reads (closed at
 * once, as `| head` closes it), so its first write fails with EPIPE.
 */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
  opts: { stdoutClosed?: boolean } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
  if (opts.stdoutClosed) child.stdout.destroy();
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, stdout, stderr };
}
