// A quick look at switchboard's hot path without the whole bench: NATS messages per call by kind and
// the throughput phase alone (CPU per call per process, calls/s), against the bare pipeline in the same stack.
//   node dist/bench/hot-path.js [calls]      BENCH_ROUNDS=3 rounds (default 1); BENCH_PROFILE=<dir> CPU profiles
import { loadavg } from "node:os";
import { countMessages } from "./lib/message-count.js";
import { startStack } from "./lib/stack.js";
import { formatSummary, summarizeFiles } from "./profile-summary.js";
import { measureThroughput } from "./throughput.js";

const calls = Number(process.argv[2] ?? 500);
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const profileDir = process.env.BENCH_PROFILE;
const say = (line: string) => process.stdout.write(`${line}\n`);
say(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
const stack = await startStack(
  profileDir ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] } : {},
);
try {
  for (const [name, p] of [
    ["switchboard", stack.switchboard],
    ["bare", stack.bare],
  ] as const) {
    const m = await countMessages(stack, p, calls);
    say(`${name}: ${m.perCall} messages per call`);
    for (const [kind, n] of Object.entries(m.byKind)) say(`  ${n}\t${kind}`);
  }
  const t = await measureThroughput(stack, {
    rounds,
    callsPerRound: 2_000,
    concurrency: 200,
    warmupCalls: 1_000,
  });
  for (const [name, p] of Object.entries({ switchboard: t.switchboard, bare: t.bare })) {
    const cpu = Object.entries(p.cpuMsPerCall).map(([role, ms]) => `${role} ${ms}`);
    say(`${name}: ${p.rounds.join(" / ")} calls/s (median ${p.median}); CPU ms per call: ${cpu.join(", ")}`);
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
