// Issue #16, item 11: nothing outlives what started it. `up` SIGKILLed takes its nats-server with it
// (a parent-death signal, src/process/tied-spawn.ts), and a SIGTERM to the pid the user holds (npx's,
// npm's) stops the engine and everything under it, though npm puts a shell in between.
import { createSocket } from "node:dgram";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type CliProcess, startCli } from "../helpers/cli.js";
import { startTestNatsServer } from "../helpers/nats-server.js";

/** [pid, ppid, state] of every process, from /proc. */
function processes(): { pid: number; ppid: number; state: string }[] {
  return readdirSync("/proc").flatMap((name) => {
    if (!/^\d+$/.test(name)) return [];
    try {
      // comm (field 2) may hold spaces and parentheses: the fields after it start past the last ")".
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const [state = "", ppid = ""] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return [{ pid: Number(name), ppid: Number(ppid), state }];
    } catch {
      return []; // gone while we read
    }
  });
}

/** Every process under `pid` (children, theirs, …). */
function descendants(pid: number): number[] {
  const all = processes();
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of all.filter((x) => x.ppid === p)) {
      out.push(c.pid);
      walk(c.pid);
    }
  };
  walk(pid);
  return out;
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
};

/** A pid is gone when it has no /proc entry or is a zombie waiting to be reaped (it runs no more). */
const alive = (pid: number) => processes().some((p) => p.pid === pid && p.state !== "Z" && p.state !== "X");

/**
 * Waits, with a bound, until none of `pids` runs; fails naming those still running, with their
 * parents and the end of what the engine printed (`printed`): whether it noticed it was orphaned.
 */
async function waitGone(pids: number[], timeoutMs = 30_000, printed?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = pids.filter(alive);
    if (running.length === 0) return;
    if (Date.now() > deadline) {
      const ppid = (pid: number) => processes().find((p) => p.pid === pid)?.ppid;
      const what = running.map((p) => `${p} (parent ${ppid(p)}) ${cmdline(p)}`).join("; ");
      const tail = printed ? `\nit printed, last:\n${printed().slice(-3_000)}` : "";
      throw new Error(`still running after ${timeoutMs} ms: ${what}${tail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  // Whatever a failed test left behind is killed by pid, never by name.
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sb-signals-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Kills, after the test, `cli` and every process seen under it (re-parented ones included). */
const seen = new Set<number>();
function track(cli: CliProcess): CliProcess {
  seen.add(cli.child.pid as number);
  cleanup.push(async () => {
    for (const pid of [...seen, ...descendants(cli.child.pid as number)].filter(alive)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    seen.clear();
  });
  return cli;
}

/** Processes under `pid` now, remembered for the clean-up. */
function under(pid: number): number[] {
  const pids = descendants(pid);
  for (const p of pids) seen.add(p);
  return pids;
}

const upArgs = (data: string) => ["up", "--nats-port", "-1", "--port", "0", "--data", data, "--no-demo"];

describe("nothing outlives what started it", () => {
  it("takes up's nats-server with it when up is SIGKILLed", async () => {
    const up = track(startCli(upArgs(await dataDir())));
    await up.waitForLine(/^ready /, 30_000);
    const nats = under(up.child.pid as number).filter((p) => cmdline(p).includes("nats-server"));
    expect(nats).toHaveLength(1);

    up.child.kill("SIGKILL");
    await up.exited;
    await waitGone(nats);
  }, 60_000);

  it.each([
    ["npx switchboard up", ["npx", "switchboard"]],
    ["npm start", ["npm", "start", "--ignore-scripts", "--"]],
  ])(
    "stops the engine and its nats-server when the pid %s holds gets SIGTERM",
    async (_, launcher) => {
      const args = upArgs(await dataDir());
      const up = track(startCli(launcher[0] === "npm" ? args.slice(1) : args, {}, launcher));
      await up.waitForLine(/^ready /, 60_000);
      const tree = under(up.child.pid as number);
      const engine = tree.filter((p) => /bin\/switchboard(\.js)? up/.test(cmdline(p)));
      expect(engine).toHaveLength(1);
      expect(tree.filter((p) => cmdline(p).includes("nats-server"))).toHaveLength(1);

      up.child.kill("SIGTERM");
      await up.exited;
      await waitGone(tree, undefined, () => up.output());
    },
    90_000,
  );

  it("stops the SIP gateway when the pid npx switchboard sip holds gets SIGTERM", async () => {
    const nats = await startTestNatsServer();
    cleanup.push(() => nats.stop());
    const udp = createSocket("udp4");
    await new Promise<void>((r) => udp.bind(0, "127.0.0.1", r));
    const port = udp.address().port;
    await new Promise<void>((r) => udp.close(() => r()));
    const sip = track(
      startCli(
        [
          "sip",
          "--edge",
          "e1",
          "--listen",
          `127.0.0.1:${port}`,
          "--rtp-ports",
          "31000-31099",
          "--nats",
          nats.url,
        ],
        {},
        ["npx", "switchboard"],
      ),
    );
    await sip.waitForLine(/"msg":"listening"/, 60_000);
    const tree = under(sip.child.pid as number);
    expect(tree.filter((p) => /bin\/switchboard(\.js)? sip/.test(cmdline(p)))).toHaveLength(1);

    sip.child.kill("SIGTERM");
    await sip.exited;
    await waitGone(tree);
  }, 90_000);
});
