// Throughput: the most calls per second each pipeline completes, `<Say>Hi</Say>` at time-scale 0,
// driven by the load logic of `switchboard load` with a fixed number of calls in flight. Rounds
// alternate switchboard and bare so that the machine's noise falls on both; medians are compared.
import { type LoadResult, runLoad } from "../src/caller/load.js";
import { cpuMeter, wakeupMeter } from "./lib/cpu.js";
import type { Pipeline, Stack } from "./lib/stack.js";

export interface ThroughputOptions {
  rounds: number;
  callsPerRound: number;
  /** Calls in flight: enough to keep both workers busy, few enough not to queue for long. */
  concurrency: number;
  warmupCalls: number;
}

export interface PipelineThroughput {
  /** Calls per second of each round, in order. */
  rounds: number[];
  median: number;
  /** CPU milliseconds per call by process role (median over rounds): what bounds the rate on 2 cores. */
  cpuMsPerCall: Record<string, number>;
  /** Each process role's wake-ups per call (median over rounds): see bench/lib/cpu.ts wakeups(). */
  wakeupsPerCall: Record<string, number>;
  /** Every round's calls reached a completed record. */
  allCompleted: boolean;
}

export interface ThroughputResult {
  switchboard: PipelineThroughput;
  bare: PipelineThroughput;
  /** switchboard median / bare median. */
  ratio: number;
  options: ThroughputOptions;
}

export async function measureThroughput(stack: Stack, opts: ThroughputOptions): Promise<ThroughputResult> {
  const run = (p: Pipeline, count: number) => saturate(stack, p, count, opts.concurrency);
  // Warm-up: JIT, connection pools, the consumers' first pulls.
  await run(stack.switchboard, opts.warmupCalls);
  await run(stack.bare, opts.warmupCalls);
  const results: Record<Pipeline["name"], Round[]> = { switchboard: [], bare: [] };
  for (let i = 0; i < opts.rounds; i++) {
    // Alternate which goes first, so neither always runs on a warmer (or more cluttered) server.
    const order = i % 2 === 0 ? [stack.switchboard, stack.bare] : [stack.bare, stack.switchboard];
    for (const p of order) results[p.name].push(await run(p, opts.callsPerRound));
  }
  const summary = (rs: Round[]): PipelineThroughput => {
    const rounds = rs.map((r) => r.load.callsPerSecond);
    const roles = Object.keys(rs[0]?.cpuMsPerCall ?? {});
    return {
      rounds,
      median: median(rounds),
      cpuMsPerCall: Object.fromEntries(
        roles.map((role) => [role, round(median(rs.map((r) => r.cpuMsPerCall[role] ?? Number.NaN)), 3)]),
      ),
      wakeupsPerCall: Object.fromEntries(
        roles.map((role) => [role, round(median(rs.map((r) => r.wakeupsPerCall[role] ?? Number.NaN)), 2)]),
      ),
      allCompleted: rs.every((r) => r.load.completed === r.load.offered && r.load.lost === 0),
    };
  };
  const switchboard = summary(results.switchboard);
  const bare = summary(results.bare);
  return { switchboard, bare, ratio: round(switchboard.median / bare.median, 3), options: opts };
}

interface Round {
  load: LoadResult;
  cpuMsPerCall: Record<string, number>;
  wakeupsPerCall: Record<string, number>;
}

/** The pids of each role of a pipeline, plus the server and this process (load + webhook server). */
export function rolePids(stack: Stack, p: Pipeline): Record<string, number> {
  const pids: Record<string, number> = {
    "nats-server": stack.nats.pid,
    "bench (load + webhook)": process.pid,
  };
  for (const proc of stack.processes) {
    if (!proc.name.startsWith(p.name) || proc.child.pid === undefined) continue;
    pids[proc.name.replace(/^\S+ /, "")] = proc.child.pid;
  }
  return pids;
}

/** As fast as the pipeline goes: every offer is due at once, `concurrency` in flight. */
async function saturate(stack: Stack, p: Pipeline, count: number, concurrency: number): Promise<Round> {
  const pids = rolePids(stack, p);
  const meter = cpuMeter(pids);
  const wakes = wakeupMeter(pids);
  const run = await runLoad(stack.nc, {
    to: p.number,
    from: "+15557654321",
    edge: p.edge,
    rate: 1e6,
    count,
    concurrency,
    caller: { timeScale: 0 },
    timeoutMs: 30_000,
  });
  return {
    load: run.result,
    cpuMsPerCall: perCallByRole(meter(), count),
    wakeupsPerCall: perCallByRole(wakes(), count),
  };
}

/** CPU ms per call of each role, from each process's CPU ms over `count` calls ("worker #1" + "worker #2" -> "workers"). */
export function perCallByRole(used: Record<string, number>, count: number): Record<string, number> {
  const perCall: Record<string, number> = {};
  for (const [name, ms] of Object.entries(used)) {
    const role = name.replace(/ #\d+$/, "s");
    perCall[role] = (perCall[role] ?? 0) + ms / count;
  }
  return perCall;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
