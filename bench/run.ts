// `npm run bench`: every figure of issue #9 from one command, each beside a baseline measured in the
// same run and its goal, then `bench/results/<date>.json`. Bounded: every phase has a call count and a
// timeout, and the whole run stops by itself (a few minutes on 2 cores).
//   BENCH_QUICK=1          smaller counts (10,000 parked calls), for a first look
//   BENCH_PROFILE=<dir>    CPU profiles of every pipeline process during throughput, summarised
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { chaosLong, describeChaos } from "./chaos.js";
import { measureConcurrency } from "./concurrency.js";
import { measureLatency } from "./latency.js";
import { exitOnSignal } from "./lib/exit-on-signal.js";
import { countMessages, type MessageCount } from "./lib/message-count.js";
import { spawnBench } from "./lib/processes.js";
import { describeMachine, formatTable, machineLine, round2, writeResults } from "./lib/report.js";
import { startStack } from "./lib/stack.js";
import { formatSummary, summarizeFiles } from "./profile-summary.js";
import { summaryRows } from "./summary.js";
import { measureThroughput, round } from "./throughput.js";

const quick = process.env.BENCH_QUICK === "1";
const profileDir = process.env.BENCH_PROFILE;
const say = (line: string) => process.stdout.write(`${line}\n`);
exitOnSignal();

const machine = describeMachine();
const started = new Date();
say(`switchboard bench, ${started.toISOString()}`);
say(`machine: ${machineLine(machine)}`);
// The engine supports Node 22 and 24 (package.json engines); V8 differs enough between versions that
// figures measured on another Node are not the ones users get (bench/README.md, seventh and
// seventeenth sessions). The figures bench/README.md quotes are Node 24's, the image's.
const nodeMajor = Number(process.versions.node.split(".")[0]);
if (nodeMajor < 22) {
  say(`warning: Node ${process.version} is older than the Node 22 switchboard supports; figures may differ`);
} else if (nodeMajor < 24) {
  say(
    `note: Node ${process.version}; the figures in bench/README.md are Node 24's (the image's), on which workers use less CPU`,
  );
}

say("\n[1/5] throughput: switchboard (edge + 2 workers) and the bare pipeline, rounds alternating…");
if (profileDir) await mkdir(profileDir, { recursive: true });
const stack = await startStack(
  profileDir ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] } : {},
);
let throughput: Awaited<ReturnType<typeof measureThroughput>>;
let latency: Awaited<ReturnType<typeof measureLatency>>;
let messages: { switchboard: MessageCount; bare: MessageCount };
try {
  throughput = await measureThroughput(stack, {
    rounds: 3,
    callsPerRound: quick ? 1_500 : 3_000,
    concurrency: 200,
    warmupCalls: quick ? 1_000 : 2_000,
  });
  say(`  switchboard ${throughput.switchboard.rounds.join(" / ")} calls/s`);
  say(`  bare        ${throughput.bare.rounds.join(" / ")} calls/s`);
  messages = {
    switchboard: await countMessages(stack, stack.switchboard, 500),
    bare: await countMessages(stack, stack.bare, 500),
  };
  for (const [name, m] of Object.entries(messages)) {
    const kinds = Object.entries(m.byKind).map(([k, n]) => `${k} ${n}`);
    say(`  NATS messages per call, ${name}: ${m.perCall} (${kinds.join(", ")})`);
  }
  // Half of switchboard's own maximum: the rate the issue asks latency at.
  const rate = Math.max(10, Math.round(throughput.switchboard.median / 2));
  say(`\n[2/5] latency at ${rate} calls/s (half of switchboard's median maximum), both pipelines…`);
  latency = await measureLatency(stack, rate, quick ? 3 : 5);
  const l = (p: typeof latency.bare) => `${p.offerToWebhook.p50} / ${p.offerToWebhook.p99} ms`;
  say(`  offer → webhook p50 / p99: switchboard ${l(latency.switchboard)}, bare ${l(latency.bare)}`);
  const busy = (p: typeof latency.bare) =>
    `${p.coresBusy} cores busy (runs ${p.runs.map((r) => round(r.coresBusy, 2)).join(" / ")})`;
  say(`  switchboard ${busy(latency.switchboard)}, bare ${busy(latency.bare)}`);
} finally {
  await stack.stop();
}
if (profileDir) {
  say(`\nCPU profiles (${profileDir}):`);
  for (const s of await summarizeFiles([profileDir], 15)) say(formatSummary(s));
}

const calls = Number(process.env.BENCH_CALLS ?? (quick ? 10_000 : 100_000));
say(
  `\n[3/5] concurrency: ${calls.toLocaleString("en")} calls parked in <Pause length="3600"> in one worker…`,
);
const concurrency = await measureConcurrency({
  calls,
  // Offers also wait for the worker (at most 1,000 ahead of it), so this is only a ceiling.
  rate: 5_000,
  parkedSeconds: quick ? 5 : 10,
  fillTimeoutMs: quick ? 120_000 : 360_000,
});

say("\n[4/5] routing propagation (bench/routing-propagation.ts, issue #5)…");
const routing = await routingPropagation();

say(
  "\n[5/5] chaos: a minute of load, a worker SIGKILLed every 5 s, one stopped 20 s, nats-server restarted once, hostile documents (issues #8, #16)…",
);
const chaos = await chaosLong();
say(describeChaos(chaos));

say("\nfor reference, one call at a time, step by step (bench/one-call.ts):");
await runChild("one-call.js", 60_000);

machine.loadAverage.end = round2(loadavg()[0] ?? 0);
const rows = summaryRows({ throughput, messages, latency, concurrency, routing, chaos });
say(`\nswitchboard bench, ${started.toISOString().slice(0, 10)}: ${machineLine(machine)}`);
say(formatTable(rows));
const file = await writeResults(
  {
    date: started.toISOString(),
    machine,
    summary: rows,
    throughput,
    messages,
    latency,
    concurrency,
    routingPropagation: routing,
    resumeAfterCrash: chaos,
    seconds: round((Date.now() - started.getTime()) / 1000),
  },
  started,
);
say(`\nresults: ${file}`);

/** Runs the routing bench (issue #5) when it is built, and reads its "every edge" line. */
async function routingPropagation(): Promise<{ output: string; p99Ms?: number } | undefined> {
  if (!existsSync(fileURLToPath(new URL("./routing-propagation.js", import.meta.url)))) {
    say("  not measured here yet: bench/routing-propagation.ts is not there");
    return undefined;
  }
  const { code, output } = await runChild("routing-propagation.js", 180_000);
  const p99 = /every edge.*p99 ([\d.]+)/.exec(output)?.[1];
  return code === 0 && p99 !== undefined ? { output, p99Ms: Number(p99) } : { output };
}

/** Runs another bench file in its own process, bounded, and prints what it printed. */
async function runChild(script: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const proc = spawnBench(script, script, []);
  const bound = setTimeout(() => void proc.kill(), timeoutMs);
  const code = await new Promise<number | null>((resolve) => proc.child.once("exit", resolve));
  clearTimeout(bound);
  // Its own figures, not the log lines of the engine it runs in-process.
  const output = proc
    .output()
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.includes('"msg":'))
    .join("\n");
  for (const line of output.split("\n")) say(`  ${line}`);
  return { code, output };
}
