// One level of the media bench: N receiver sockets; first the baseline (a plain Node sender) to them,
// then N sipp calls through the gateway with their SDP naming the same sockets; each measured over
// the same window, once every stream plays.
import { execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tiedCommand } from "../../src/process/tied-spawn.js";
import { cpuMs } from "../lib/cpu.js";
import { spawnBench } from "../lib/processes.js";
import type { ReceiverCommand, ReceiverReport } from "./receiver.js";
import { freeUdpPort, type SipStack } from "./stack.js";
import { startWireCapture, type WireReport } from "./wire.js";

const SCENARIO = fileURLToPath(new URL("../../../bench/sip/caller.xml", import.meta.url));

/** The callers' scenario, in `dir`: as written, or without the callers' own RTP (BENCH_SIP_CALLER_RTP=0). */
export async function writeScenario(dir: string, callerRtp: boolean): Promise<string> {
  const text = await readFile(SCENARIO, "utf8");
  const file = join(dir, "caller.xml");
  await writeFile(file, callerRtp ? text : text.replace(/^\s*<nop><action><exec rtp_stream=.*$/m, ""));
  return file;
}
export const RECEIVER_IP = "127.0.0.3";
const CALLER_IP = "127.0.0.2";

export interface SenderFigures {
  /** CPU over the window: % of one core (and the kernel's part of it: the UDP sends), and ms per call-second. */
  cpuPercent: number;
  systemPercent: number;
  cpuMsPerCallSecond: number;
  /** RSS growth over the idle process, per call (KiB). */
  rssKiBPerCall: number;
  report: ReceiverReport;
  /** The same window's send intervals at the wire (wire.ts), when tcpdump could capture. */
  wire?: WireReport | undefined;
}

export interface LevelResult {
  calls: number;
  baseline: SenderFigures;
  gateway: SenderFigures;
  /** sipp's count of successful and failed calls; streams that never played the prompt. */
  sipp: { successful: number; failed: number; exitCode: number | null };
  notPlaying: number;
  setupSeconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Gives `pid` the scheduling priority `nice` (BENCH_SIP_NICE): on a machine busy with other work, the
 * measured processes get a core as on a quiet machine. Needs root for a negative value. Every thread:
 * Linux's nice is per thread, and a scavenge waits for V8's GC helper threads (left at nice 0, a
 * scavenge on a loaded machine took 340 ms). Threads started later (a Worker) keep the nice they inherit. */
export function renice(pid: number | undefined, nice: number | undefined): void {
  if (nice === undefined || pid === undefined) return;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    tids = [String(pid)];
  }
  execFileSync("renice", ["-n", String(nice), "-p", ...tids], { stdio: "ignore" });
}

/** CPU milliseconds `pid` has spent in the kernel (its system time), NaN where /proc is not readable. */
function systemMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[12]) * 10; // USER_HZ 100
  } catch {
    return Number.NaN;
  }
}

/** Resident memory of `pid` in KiB (NaN where /proc is not readable). */
export function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  } catch {
    return Number.NaN;
  }
}

export async function runLevel(
  stack: SipStack,
  calls: number,
  opts: {
    windowS: number;
    rate: number;
    workDir: string;
    nice?: number;
    /** Capture the window at the wire too (wire.ts). */
    wire: boolean;
    say: (line: string) => void;
  },
): Promise<LevelResult> {
  const receiver = spawnBench("rtp receiver", "sip/receiver.js", [String(calls), RECEIVER_IP], { ipc: true });
  renice(receiver.child.pid, opts.nice);
  try {
    const ports = await new Promise<number[]>((resolve, reject) => {
      receiver.child.once("message", (m: { ports: number[] }) => resolve(m.ports));
      receiver.child.once("exit", () => reject(new Error(`receiver exited:\n${receiver.output()}`)));
    });
    const ask = (cmd: ReceiverCommand) => receiver.child.send(cmd);
    const report = () =>
      new Promise<ReceiverReport>((resolve) => {
        receiver.child.once("message", (m: ReceiverReport) => resolve(m));
        ask({ cmd: "report" });
      });
    /** Measures `pid` while every stream plays, over the window. */
    const measure = async (pid: number, idleRss: number): Promise<SenderFigures> => {
      ask({ cmd: "reset" });
      await sleep(2_000); // past the first frames of the last streams, and the reset's own turn
      const capture = opts.wire
        ? await startWireCapture(join(opts.workDir, `wire-${calls}-${pid}.pcap`), RECEIVER_IP, opts.say)
        : undefined;
      ask({ cmd: "measure", on: true });
      const cpu0 = cpuMs(pid);
      const sys0 = systemMs(pid);
      const t0 = performance.now();
      await sleep((opts.windowS * 1000) / 2);
      const rss = rssKiB(pid);
      await sleep((opts.windowS * 1000) / 2);
      const cpu = cpuMs(pid) - cpu0;
      const sys = systemMs(pid) - sys0;
      const seconds = (performance.now() - t0) / 1000;
      ask({ cmd: "measure", on: false });
      const wire = await capture?.stop();
      return {
        cpuPercent: (cpu / (seconds * 1000)) * 100,
        systemPercent: (sys / (seconds * 1000)) * 100,
        cpuMsPerCallSecond: cpu / (calls * seconds),
        rssKiBPerCall: (rss - idleRss) / calls,
        report: await report(),
        wire,
      };
    };

    // The baseline: one timer, one socket per stream, the same frames.
    opts.say(`  ${calls}: baseline sender…`);
    const ideal = spawnBench("ideal sender", "sip/ideal.js", [ports.join(","), RECEIVER_IP]);
    let baseline: SenderFigures;
    try {
      await ideal.ready();
      renice(ideal.child.pid, opts.nice);
      const pid = ideal.child.pid ?? 0;
      baseline = await measure(pid, Number.NaN);
      // Its RSS per call against an idle Node is not meaningful; what is: the whole process.
      baseline.rssKiBPerCall = rssKiB(pid) / calls;
    } finally {
      await ideal.stop();
    }

    // The gateway: sipp places the calls; each SDP names one receiver port.
    const setupSeconds = calls / opts.rate;
    const promptSeconds = setupSeconds + opts.windowS + 15;
    stack.promptFrames = Math.ceil((promptSeconds * 1000) / 20);
    const inf = join(opts.workDir, `ports-${calls}.csv`);
    await writeFile(inf, `SEQUENTIAL\n${ports.map((p) => `${p};`).join("\n")}\n`);
    const gwPid = stack.gateway.child.pid ?? 0;
    const idleRss = rssKiB(gwPid);
    opts.say(
      `  ${calls}: ${calls} calls through the gateway at ${opts.rate}/s, prompt ${promptSeconds.toFixed(0)} s…`,
    );
    ask({ cmd: "reset" });
    // sipp streams every call's audio from one socket on the receivers' address (so the gateway,
    // latching onto a source only when its address differs from the SDP's, keeps sending to ours).
    const mediaPort = await freeUdpPort(RECEIVER_IP);
    const sipp = runSipp(
      stack,
      calls,
      opts.rate,
      inf,
      opts.workDir,
      promptSeconds + setupSeconds + 60,
      mediaPort,
    );
    const started = performance.now();
    // Every stream playing, or the setup's time twice over and 30 s more: then measure what plays.
    let playing = 0;
    while (performance.now() - started < (setupSeconds * 2 + 30) * 1000) {
      playing = (await report()).playing;
      if (playing >= calls || sipp.done) break;
      await sleep(250);
    }
    const allUp = (performance.now() - started) / 1000;
    const gateway = await measure(gwPid, idleRss);
    opts.say(
      `  ${calls}: ${playing} streams playing after ${allUp.toFixed(1)} s; waiting for the calls to end…`,
    );
    const result = await sipp.result;
    return {
      calls,
      baseline,
      gateway,
      sipp: result,
      notPlaying: calls - playing,
      setupSeconds: allUp,
    };
  } finally {
    await receiver.kill();
  }
}

interface SippRun {
  done: boolean;
  result: Promise<LevelResult["sipp"]>;
}

function runSipp(
  stack: SipStack,
  calls: number,
  rate: number,
  inf: string,
  cwd: string,
  timeoutS: number,
  mediaPort: number,
): SippRun {
  const args = [
    `127.0.0.1:${stack.sipPort}`,
    ...[
      "-sf",
      join(cwd, "caller.xml"),
      "-s",
      stack.number,
      "-i",
      CALLER_IP,
      "-mi",
      RECEIVER_IP,
      "-mp",
      String(mediaPort),
    ],
    ...["-inf", inf, "-r", String(rate), "-m", String(calls), "-l", String(calls)],
    ...["-timeout", String(Math.ceil(timeoutS)), "-timeout_error", "-nostdin", "-rtp_threadtasks", "50"],
  ];
  const [command, argv] = tiedCommand("sipp", args); // gone with the bench, however it ends
  const child = spawn(command, argv, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const keep = (c: Buffer) => {
    out = (out + c.toString()).slice(-40_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const run: SippRun = {
    done: false,
    result: new Promise((resolve) => {
      child.on("close", (code) => {
        run.done = true;
        // sipp's last screen: "Successful call | <period> | <cumulated>".
        const count = (what: string) =>
          Number(new RegExp(`${what}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`).exec(out)?.[1] ?? Number.NaN);
        const successful = count("Successful call");
        const failed = count("Failed call");
        // A failed call says why on sipp's screen (its last one, with the unexpected messages).
        if (Number.isNaN(successful) || failed > 0) process.stderr.write(`sipp said:\n${out.slice(-3000)}\n`);
        resolve({ successful, failed, exitCode: code });
      });
    }),
  };
  return run;
}
