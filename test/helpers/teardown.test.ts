// A helper whose setup throws part way stops what it had already started: no nats-server is left
// running by this process (found by pid in /proc, as real processes).
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { startApiStack } from "../security/api-stack.js";
import { startTestEngine } from "./engine.js";
import { startTestNatsServer } from "./nats-server.js";
import { setUp } from "./teardown.js";

/** The pids of this process's children running `name` (a leaked one stays our child). */
async function children(name: string): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of (await readdir("/proc")).filter((d) => /^\d+$/.test(d))) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    // pid (comm) state ppid …; comm may hold spaces, so read from the last ')'.
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (comm === name && ppid === process.pid) pids.push(Number(pid));
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.runIf(existsSync("/proc"))("a helper whose setup throws", () => {
  it("stops the nats-server it had started (api stack, a step after the server)", async () => {
    const before = await children("nats-server");
    let started: number[] = [];
    const failing = startApiStack({
      setup: async () => {
        started = (await children("nats-server")).filter((p) => !before.includes(p));
        throw new Error("setup fails here");
      },
    });
    await expect(failing).rejects.toThrow("setup fails here");
    expect(started).toHaveLength(1);
    expect(alive(started[0] as number)).toBe(false);
    expect(await children("nats-server")).toEqual(before);
  });

  it("stops its server and connection when a region worker cannot start (test engine)", async () => {
    const before = await children("nats-server");
    // A '.' is not allowed in a stream name: the worker's streams cannot be created.
    await expect(startTestEngine({ region: "us.1" })).rejects.toThrow();
    expect(await children("nats-server")).toEqual(before);
  });

  it("stops the servers that started when another of a parallel start fails", async () => {
    const before = await children("nats-server");
    let pid = 0;
    await expect(
      setUp(async (t) => {
        await t.all(
          [
            startTestNatsServer().then((s) => {
              pid = s.pid;
              return s;
            }),
            startTestNatsServer({ extraConfig: "this is not a config" }),
          ],
          (s) => s.stop(),
        );
      }),
    ).rejects.toThrow();
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
    expect(await children("nats-server")).toEqual(before);
  });
});
