// A service command starts again in place with the V8 flags V8 reads only at start-up
// (src/process/service-flags.ts): the same pid, arguments and environment, the flags once; any other
// command, and a process forked with an IPC channel (which would not survive the exec), as it is.
import { execFile, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { canStartAgain, SERVICE_V8_FLAGS } from "../../src/process/service-flags.js";

const probe = fileURLToPath(new URL("../fixtures/process/service-flags-probe.mjs", import.meta.url));

interface Self {
  pid: number;
  execArgv: string[];
  args: string[];
  env?: string;
}

const env = { ...process.env, SERVICE_FLAGS_PROBE: "kept" };

/** Runs the probe with `args`; its pid as node started it, and what it says it is. */
async function run(args: string[], execArgv: string[] = []): Promise<{ pid: number; self: Self }> {
  const child = execFile(process.execPath, [...execArgv, probe, ...args], { env, timeout: 20_000 });
  const out = new Promise<string>((resolve, reject) => {
    let text = "";
    child.stdout?.on("data", (chunk: string) => {
      text += chunk;
    });
    child.once("error", reject);
    // `close`: stdout has ended too (at `exit` it may not have).
    child.once("close", (code) => (code === 0 ? resolve(text) : reject(new Error(`probe exited ${code}`))));
  });
  return { pid: child.pid ?? -1, self: JSON.parse(await out) as Self };
}

const canExec = canStartAgain();

describe("startWithServiceFlags", () => {
  it.runIf(canExec)("starts a service again in place, with the flags once", async () => {
    const { pid, self } = await run(["region", "--region", "us1"], ["--stack-size=2000"]);
    expect(self.pid).toBe(pid);
    expect(self.args).toEqual(["region", "--region", "us1"]);
    expect(self.env).toBe("kept");
    // node's own flags are kept; each service flag is there once.
    expect(self.execArgv).toContain("--stack-size=2000");
    for (const flag of SERVICE_V8_FLAGS) expect(self.execArgv.filter((a) => a === flag)).toHaveLength(1);
  });

  it.runIf(canExec)("does not start again when node was given the flags", async () => {
    const { self } = await run(["edge"], [...SERVICE_V8_FLAGS]);
    expect(self.execArgv).toEqual([...SERVICE_V8_FLAGS]);
  });

  it.runIf(canExec)(
    "runs as started with the reducer's own flag, a debugger, or no leave to exec",
    async () => {
      for (const execArgv of [
        ["--memory-reducer"],
        ["--no-memory_reducer"],
        ["--inspect=127.0.0.1:0"],
        ["--permission", "--allow-fs-read=*"],
      ]) {
        const { pid, self } = await run(["up"], execArgv);
        expect(self.pid).toBe(pid);
        expect(self.execArgv).toEqual(execArgv);
      }
    },
  );

  it("leaves any other command as it is", async () => {
    const { pid, self } = await run(["numbers", "list"]);
    expect(self.pid).toBe(pid);
    expect(self.execArgv).toEqual([]);
  });

  it("leaves a process with an IPC channel as it is: the channel still answers", async () => {
    const child = fork(probe, ["up"], { env, execArgv: [], stdio: ["ignore", "ignore", "inherit", "ipc"] });
    try {
      const self = await new Promise<Self>((resolve, reject) => {
        child.once("message", (m) => resolve(m as Self));
        child.once("exit", (code) => reject(new Error(`probe exited ${code} without a message`)));
      });
      expect(self.pid).toBe(child.pid);
      expect(self.execArgv).toEqual([]);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
