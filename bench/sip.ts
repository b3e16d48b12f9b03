// `npm run bench:sip`: issue #20's media plane. Concurrent SIP calls (sipp, G.711 both ways) through
// ONE gateway process, each playing a prompt; per level, failures, the gateway's CPU and RSS per call,
// the RTP send interval (stdev, p99) at the wire (tcpdump's kernel timestamps, sip/wire.ts) and at the
// receiving side, and intact audio there, beside a plain Node sender's figures to the same sockets in
// the same run. Not part of `npm test`.
//   BENCH_SIP_LEVELS=100,200,500,1000   calls at once per level
//   BENCH_SIP_SECONDS=10                the measured window per level
//   BENCH_SIP_RATE=50                   calls placed per second
//   BENCH_SIP_NICE=-10                  run the receiver and both senders at this priority (root): on a
//                                       busy machine, what they do on a quiet one
//   BENCH_SIP_CALLER_RTP=0              the callers send no RTP (what the gateway's receiving costs)
//   BENCH_SIP_WIRE=0                    no capture at the wire (it needs tcpdump, and root or CAP_NET_RAW)
//   BENCH_PROFILE=<dir>                 a CPU profile of the gateway, summarised
//   BENCH_SIP_TRACE=<file>              the gateway's pacer trace (late turns and what delayed them)
//   BENCH_SIP_GATEWAY_NODE_ARGS="…"     Node flags for the gateway (e.g. --max-semi-space-size=64)
import { rmSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { linearToUlaw } from "../src/sip/rtp/g711.js";
import { exitOnSignal } from "./lib/exit-on-signal.js";
import { describeMachine, machineLine, round2 } from "./lib/report.js";
import { formatSummary, summarizeFiles } from "./profile-summary.js";
import { type LevelResult, renice, runLevel, writeScenario } from "./sip/level.js";
import type { IntervalSummary } from "./sip/measure.js";
import { summarizeTraceFile } from "./sip/pacer-trace.js";
import { freeUdpPort, startSipStack } from "./sip/stack.js";

const say = (line: string) => process.stdout.write(`${line}\n`);
exitOnSignal();
const levels = (process.env.BENCH_SIP_LEVELS ?? "100,200,500,1000").split(",").map(Number);
const windowS = Number(process.env.BENCH_SIP_SECONDS ?? 10);
const rate = Number(process.env.BENCH_SIP_RATE ?? 50);
const profileDir = process.env.BENCH_PROFILE;
const callerRtp = process.env.BENCH_SIP_CALLER_RTP !== "0";
const traceFile = process.env.BENCH_SIP_TRACE;
const gatewayNodeArgs = (process.env.BENCH_SIP_GATEWAY_NODE_ARGS ?? "").split(" ").filter(Boolean);
const wire = process.env.BENCH_SIP_WIRE !== "0";
const nice = process.env.BENCH_SIP_NICE ? Number(process.env.BENCH_SIP_NICE) : undefined;

const machine = describeMachine();
const started = new Date();
say(`switchboard media bench, ${started.toISOString()}`);
say(`machine: ${machineLine(machine)}`);
say(
  `levels ${levels.join(", ")} calls at once; ${windowS} s measured each; calls placed at ${rate}/s` +
    (nice === undefined ? "" : `; receiver and senders at nice ${nice}`) +
    (callerRtp ? "; callers stream G.711 too" : "; callers send no RTP"),
);

const workDir = await mkdtemp(join(tmpdir(), "sb-bench-sip-"));
// Also when a signal stops the bench (exit-on-signal.ts): the captures in it are large.
process.once("exit", () => rmSync(workDir, { recursive: true, force: true }));
// What each caller streams to the gateway: a second of a 300 Hz tone, looped by sipp's rtp_stream.
await writeFile(
  join(workDir, "caller.ulaw"),
  Uint8Array.from({ length: 8000 }, (_, i) => linearToUlaw(4000 * Math.sin((2 * Math.PI * 300 * i) / 8000))),
);
await writeScenario(workDir, callerRtp);
if (profileDir) await mkdir(profileDir, { recursive: true });
const maxCalls = Math.max(...levels);
// Two ports a call (the gateway takes even ports), and room for ports other processes hold.
const rtpLo = 30_000 + 2 * Math.floor(Math.random() * 5_000);
const stack = await startSipStack({
  sipPort: await freeUdpPort("127.0.0.1"),
  rtpPorts: [rtpLo, rtpLo + 4 * maxCalls + 200],
  gatewayNodeArgs: [
    ...gatewayNodeArgs,
    ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
  ],
  ...(traceFile && { gatewayEnv: { SWITCHBOARD_PACER_TRACE: traceFile } }),
});
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "–");
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "–");
/** gateway / baseline of one figure of the send intervals at the wire ("–" where not captured). */
const atWire = (r: LevelResult, pick: (s: IntervalSummary) => number, f: (x: number) => string) =>
  `${f(r.gateway.wire ? pick(r.gateway.wire.intervals) : Number.NaN)} / ${f(r.baseline.wire ? pick(r.baseline.wire.intervals) : Number.NaN)}`;
const dropped = (r: LevelResult) => (r.gateway.wire?.dropped ?? 0) + (r.baseline.wire?.dropped ?? 0);

function row(r: LevelResult): string {
  const g = r.gateway;
  const b = r.baseline;
  const a = g.report.audio;
  const failed = r.sipp.failed + Math.max(0, r.calls - r.sipp.successful - r.sipp.failed);
  const intact =
    a.intact + a.silence > 0 ? (100 * a.intact) / (a.intact + a.corrupt + a.outOfOrder) : Number.NaN;
  return (
    `| ${r.calls} | ${failed}${r.notPlaying ? ` (${r.notPlaying} silent)` : ""} ` +
    `| ${f1(g.cpuPercent)} % (${f1(g.systemPercent)} sys) / ${f1(b.cpuPercent)} % (${f1(b.systemPercent)} sys) | ${f2(g.cpuMsPerCallSecond)} / ${f2(b.cpuMsPerCallSecond)} ` +
    `| ${f1(g.rssKiBPerCall)} | ${atWire(r, (i) => i.stdev, f2)} | ${atWire(r, (i) => i.p99, f1)} ` +
    `| ${atWire(r, (i) => i.max, f1)}${dropped(r) ? ` (${dropped(r)} dropped)` : ""} ` +
    `| ${f2(g.report.intervals.stdev)} / ${f2(b.report.intervals.stdev)} ` +
    `| ${f1(g.report.intervals.p99)} / ${f1(b.report.intervals.p99)} | ${f1(g.report.intervals.max)} / ${f1(b.report.intervals.max)} ` +
    `| ${a.seqGaps} | ${f2(intact)} % (${a.corrupt} corrupt, ${a.outOfOrder} out of order) |`
  );
}

renice(stack.gateway.child.pid, nice);
const results: LevelResult[] = [];
const loads: number[] = [];
try {
  for (const calls of levels) {
    say(`\n[${calls} calls at once] load average ${loadavg().map(round2).join(" ")}`);
    const r = await runLevel(stack, calls, {
      windowS,
      rate,
      workDir,
      say,
      wire,
      ...(nice !== undefined && { nice }),
    });
    loads.push(round2(loadavg()[0] ?? 0));
    results.push(r);
    say(row(r));
  }
} finally {
  await stack.stop();
  await rm(workDir, { recursive: true, force: true });
}
machine.loadAverage.end = round2(loadavg()[0] ?? 0);

say(`\nmachine: ${machineLine(machine)}`);
say(
  "gateway / baseline (a plain Node sender, one timer) in each cell; send intervals at the wire (kernel " +
    "timestamps) and at the receiver (its event loop's), ms",
);
say(
  "| calls | failed | CPU, % of a core | CPU ms per call-second | RSS KiB per call | wire stdev | wire p99 | wire max " +
    "| receiver stdev | receiver p99 | receiver max | seq gaps | audio intact |",
);
say("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of results) say(row(r));
const at500 = results.find((r) => r.calls === 500);
if (at500) {
  // The goal is the send interval's: judged at the wire when it was captured whole, else at the receiver.
  const w = at500.gateway.wire;
  const byWire = w !== undefined && w.dropped === 0 && w.intervals.count > 0;
  const i = byWire ? w.intervals : at500.gateway.report.intervals;
  // No interval at all (every call failed) is no goal met: NaN comes back from the receiver as null.
  const met = i.count > 0 && (i.p99 ?? Number.NaN) <= 22 && (i.stdev ?? Number.NaN) <= 1;
  const r = at500.gateway.report.intervals;
  say(
    `goal at 500 calls (send interval p99 ≤ 22 ms, stdev ≤ 1 ms), ${byWire ? "at the wire" : "at the receiver"}: ` +
      `${met ? "met" : "NOT met"} (p99 ${f1(i.p99)}, stdev ${f2(i.stdev)}; at the receiver p99 ${f1(r.p99)}, stdev ${f2(r.stdev)})`,
  );
}
const file = fileURLToPath(
  new URL(`../../bench/results/sip-${started.toISOString().slice(0, 10)}.json`, import.meta.url),
);
await writeFile(
  file,
  `${JSON.stringify({ machine, windowS, rate, nice, callerRtp, wire, loads, results }, null, 2)}\n`,
);
say(`results: ${file}`);
if (traceFile) for (const line of await summarizeTraceFile(traceFile)) say(line);
if (profileDir) {
  say(`\nCPU profile of the gateway (${profileDir}):`);
  for (const s of await summarizeFiles([profileDir], 20)) say(formatSummary(s));
}
