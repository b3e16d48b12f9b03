// A quick look at switchboard's hot path without the whole bench: NATS messages per call by kind and
// a short throughput round, against the bare pipeline in the same stack.
//   node dist/bench/hot-path.js [calls]      BENCH_PROFILE=<dir> also writes and summarises CPU profiles
import { countMessages } from "./lib/message-count.js";
import { startStack } from "./lib/stack.js";
import { formatSummary, summarizeFiles } from "./profile-summary.js";
import { measureThroughput } from "./throughput.js";

const calls = Number(process.argv[2] ?? 500);
const profileDir = process.env.BENCH_PROFILE;
const stack = await startStack(
  profileDir ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] } : {},
);
try {
  for (const [name, p] of [
    ["switchboard", stack.switchboard],
    ["bare", stack.bare],
  ] as const) {
    const m = await countMessages(stack, p, calls);
    process.stdout.write(`${name}: ${m.perCall} messages per call\n`);
    for (const [kind, n] of Object.entries(m.byKind)) process.stdout.write(`  ${n}\t${kind}\n`);
  }
  const t = await measureThroughput(stack, {
    rounds: 1,
    callsPerRound: 2_000,
    concurrency: 200,
    warmupCalls: 1_000,
  });
  process.stdout.write(`throughput: switchboard ${t.switchboard.median}, bare ${t.bare.median} calls/s\n`);
} finally {
  await stack.stop();
}
if (profileDir)
  for (const s of await summarizeFiles([profileDir], 25)) process.stdout.write(`${formatSummary(s)}\n`);
