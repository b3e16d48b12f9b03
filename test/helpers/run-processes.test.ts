// The end-of-run check finds the processes its run left (by the run's marker in their environment),
// names them by pid and command line, kills them, and never touches another run's processes.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { checkNoLeftovers } from "../global/no-leftovers.js";
import { type NatsServer, startTestNatsServer } from "./nats-server.js";
import { processesOfRun, RUN_MARKER, untilGone } from "./run-processes.js";

const runMarker = process.env[RUN_MARKER];
const started: NatsServer[] = [];

/** A real nats-server whose environment carries `marker` instead of this run's. */
async function serverOfRun(marker: string): Promise<NatsServer> {
  process.env[RUN_MARKER] = marker;
  try {
    const server = await startTestNatsServer();
    started.push(server);
    return server;
  } finally {
    if (runMarker === undefined) delete process.env[RUN_MARKER];
    else process.env[RUN_MARKER] = runMarker;
  }
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

describe.runIf(existsSync("/proc") || process.platform === "darwin")("the leftover-process check", () => {
  it("finds a nats-server of its run by pid and arguments, and no other run's", async () => {
    const mine = randomUUID();
    const server = await serverOfRun(mine);
    const found = await processesOfRun(mine);
    expect(found).toEqual([
      { pid: server.pid, args: expect.stringMatching(/nats-server -c .*switchboard-nats-/) },
    ]);
    expect(await processesOfRun(randomUUID())).toEqual([]);
    if (runMarker) expect((await processesOfRun(runMarker)).map((p) => p.pid)).not.toContain(server.pid);
    await server.stop();
    expect(await untilGone(mine, 5_000)).toEqual([]);
  });

  it("does not count processes a test never starts (a shell's sleep)", async () => {
    const mine = randomUUID();
    const sleep = spawn("sleep", ["30"], { env: { ...process.env, [RUN_MARKER]: mine }, stdio: "ignore" });
    const exited = new Promise((resolve) => sleep.once("exit", resolve));
    try {
      await new Promise((resolve) => sleep.once("spawn", resolve));
      expect(await processesOfRun(mine)).toEqual([]);
    } finally {
      sleep.kill();
      await exited;
    }
  });

  it("fails with the pid and arguments of what is left, and kills it", async () => {
    const mine = randomUUID();
    const server = await serverOfRun(mine);
    const check = checkNoLeftovers(mine, 200);
    await expect(check).rejects.toThrow(
      new RegExp(`left 1 process.*\\n  pid ${server.pid}: .*nats-server -c`, "s"),
    );
    expect(await untilGone(mine, 5_000)).toEqual([]);
  });

  it("passes when its run left nothing", async () => {
    const mine = randomUUID();
    const server = await serverOfRun(mine);
    await server.stop();
    await expect(checkNoLeftovers(mine, 5_000)).resolves.toBeUndefined();
  });
});
