// A quick look at switchboard's hot path without the whole bench: NATS messages per call by kind and
// the throughput phase alone (CPU per call per process, calls/s), against the bare pipeline in the same stack.
//   node dist/bench/hot-path.js [calls]      BENCH_ROUNDS=3 rounds (default 1); BENCH_PROFILE=<dir> CPU profiles;
//   BENCH_HEAP=<dir> what each process allocates per call during the throughput phase (garbage included)
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { formatHeapSummary, type HeapProfile, readHeapProfile, summarizeHeap } from "./heap-summary.js";
import { exitOnSignal } from "./lib/exit-on-signal.js";
import { heapProfileFile } from "./lib/heap-profile-file.js";
import { countMessages } from "./lib/message-count.js";
import { type Stack, startStack } from "./lib/stack.js";
import { formatSummary, summarizeFiles } from "./profile-summary.js";
import { measureThroughput, type ThroughputOptions } from "./throughput.js";

const calls = Number(process.argv[2] ?? 500);
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const profileDir = process.env.BENCH_PROFILE;
const heapDir = process.env.BENCH_HEAP;
const say = (line: string) => process.stdout.write(`${line}\n`);
exitOnSignal();
say(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
const nodeArgs = [
  ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
  ...(heapDir ? [`--import=${fileURLToPath(new URL("./lib/heap-sampling.js", import.meta.url))}`] : []),
];
// The preload reads where to write from its environment, which the pipeline's processes inherit.
if (heapDir) process.env.BENCH_HEAP_DIR = heapDir;
const stack = await startStack({ nodeArgs });
try {
  for (const [name, p] of [
    ["switchboard", stack.switchboard],
    ["bare", stack.bare],
  ] as const) {
    const m = await countMessages(stack, p, calls);
    say(`${name}: ${m.perCall} messages per call`);
    for (const [kind, n] of Object.entries(m.byKind)) say(`  ${n}\t${kind}`);
  }
  const options: ThroughputOptions = { rounds, callsPerRound: 2_000, concurrency: 200, warmupCalls: 1_000 };
  if (heapDir) signalPipelines(stack); // starts sampling
  const t = await measureThroughput(stack, options);
  if (heapDir) {
    // Sampled over the whole phase (warm-up included); each pipeline's idle time while the other
    // runs is in its figures too, which is its heartbeats and little else.
    say("allocations (sampling slows every process: read calls/s and CPU from a run without BENCH_HEAP)");
    await sayAllocations(stack, heapDir, options.warmupCalls + rounds * options.callsPerRound);
  }
  for (const [name, p] of Object.entries({ switchboard: t.switchboard, bare: t.bare })) {
    const cpu = Object.entries(p.cpuMsPerCall).map(([role, ms]) => `${role} ${ms}`);
    const wakes = Object.entries(p.wakeupsPerCall).map(([role, n]) => `${role} ${n}`);
    say(`${name}: ${p.rounds.join(" / ")} calls/s (median ${p.median}); CPU ms per call: ${cpu.join(", ")}`);
    say(`${name}: wake-ups per call: ${wakes.join(", ")}`);
  }
  say(`ratio to bare: ${t.ratio}`);
} finally {
  await stack.stop();
}
say(
  `load average at end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
if (profileDir) for (const s of await summarizeFiles([profileDir], 25)) say(formatSummary(s));

function signalPipelines(stack: Stack): void {
  for (const proc of stack.processes) proc.child.kill("SIGUSR2");
}

/** Stops every process's sampling and says what each role allocated per call of its pipeline. */
async function sayAllocations(stack: Stack, dir: string, callsPerPipeline: number): Promise<void> {
  signalPipelines(stack);
  const byRole = new Map<string, string[]>();
  for (const proc of stack.processes) {
    if (proc.child.pid === undefined) continue;
    const role = proc.name.replace(/ #\d+$/, "s"); // "switchboard worker #1" -> "switchboard workers"
    byRole.set(role, [...(byRole.get(role) ?? []), heapProfileFile(dir, proc.child.pid)]);
  }
  for (const [role, files] of byRole) {
    const profiles = await Promise.all(files.map((f) => waitForProfile(f)));
    // A role of several processes (the workers) shares its pipeline's calls: their samples add up.
    const head = {
      callFrame: { functionName: "(root)", url: "", lineNumber: 0 },
      selfSize: 0,
      children: profiles.map((p) => p.head),
    };
    say(formatHeapSummary(role, summarizeHeap({ head }, callsPerPipeline)));
  }
}

async function waitForProfile(file: string): Promise<HeapProfile> {
  for (let waited = 0; ; waited += 100) {
    try {
      return await readHeapProfile(file);
    } catch (err) {
      if (waited >= 10_000) throw new Error(`no heap profile at ${file}`, { cause: err });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
