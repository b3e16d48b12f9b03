// A bench stopped by Ctrl-C or `kill` leaves nothing running (bench/lib/exit-on-signal.ts): the
// signal becomes an exit, so exit hooks run (its nats-server is stopped and its store removed), and
// the processes tied to the bench die with it.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { childrenDieWithParent } from "../../src/process/tied-spawn.js";

const probe = fileURLToPath(new URL("../fixtures/bench/signal-probe.mjs", import.meta.url));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Resolves once `pid` is gone, or rejects after `ms`. */
async function gone(pid: number, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} is still running`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each([
  ["SIGTERM", 143],
  ["SIGINT", 130],
] as const)("a bench stopped by %s", (signal, code) => {
  it.runIf(childrenDieWithParent())("exits with the shell's code and leaves no process", async () => {
    const bench = spawn(process.execPath, [probe], { stdio: ["ignore", "pipe", "inherit"] });
    const pids: number[] = [];
    try {
      const [line] = (await once(bench.stdout, "data")) as [Buffer];
      const said = JSON.parse(line.toString()) as {
        tied: number;
        hooked: number;
        nats: number;
        store: string;
      };
      const { tied, hooked, nats, store } = said;
      pids.push(tied, hooked, nats);
      expect(alive(tied) && alive(hooked) && alive(nats)).toBe(true);
      expect(existsSync(store)).toBe(true);
      const exited = once(bench, "exit");
      bench.kill(signal);
      const [exitCode] = (await exited) as [number | null];
      expect(exitCode).toBe(code);
      await gone(tied);
      await gone(hooked);
      await gone(nats);
      expect(existsSync(store)).toBe(false);
    } finally {
      if (bench.exitCode === null && bench.signalCode === null) bench.kill("SIGKILL");
      for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
    }
  });
});
